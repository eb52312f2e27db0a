package datasets

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
)

// Order is the seeded order in which a training loop visits N examples in
// batches: an endless sequence of epochs, each a permutation seeded by
// (Seed, epoch). Batch k is a pure function of k, so a checkpoint needs
// only the batch counter to resume at the same data position.
type Order struct {
	N, Batch int
	Seed     uint64
}

// Indices returns the example indices of batch k.
func (o Order) Indices(k int64) []int {
	out := make([]int, o.Batch)
	pos := k * int64(o.Batch)
	var perm []int
	epoch := int64(-1)
	for i := range out {
		e, off := (pos+int64(i))/int64(o.N), int((pos+int64(i))%int64(o.N))
		if e != epoch {
			epoch = e
			perm = rand.New(rand.NewPCG(o.Seed, uint64(e))).Perm(o.N)
		}
		out[i] = perm[off]
	}
	return out
}

// Prefetcher loads batches in the background: after batch k is asked for,
// batches k+1 … k+Depth are prepared while the caller trains on k.
type Prefetcher[T any] struct {
	load  func(k int64) (T, error)
	depth int

	mu      sync.Mutex
	pending map[int64]chan result[T]
	ctx     context.Context
	cancel  context.CancelFunc
	sem     chan struct{}
}

type result[T any] struct {
	v   T
	err error
}

// NewPrefetcher wraps load(k), which must be safe to call concurrently for
// different k, with depth batches of look-ahead on workers goroutines.
func NewPrefetcher[T any](load func(k int64) (T, error), depth, workers int) *Prefetcher[T] {
	ctx, cancel := context.WithCancel(context.Background())
	return &Prefetcher[T]{load: load, depth: depth, pending: map[int64]chan result[T]{},
		ctx: ctx, cancel: cancel, sem: make(chan struct{}, max(workers, 1))}
}

// Get returns batch k (waiting for it if needed) and schedules the next ones.
func (p *Prefetcher[T]) Get(k int64) (T, error) {
	ch := p.schedule(k)
	for j := int64(1); j <= int64(p.depth); j++ {
		p.schedule(k + j)
	}
	var r result[T]
	select {
	case r = <-ch:
	case <-p.ctx.Done():
		var zero T
		return zero, fmt.Errorf("prefetcher closed")
	}
	p.mu.Lock()
	delete(p.pending, k)
	for j := range p.pending { // batches behind the caller are never asked for
		if j < k {
			delete(p.pending, j)
		}
	}
	p.mu.Unlock()
	return r.v, r.err
}

func (p *Prefetcher[T]) schedule(k int64) chan result[T] {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.pending[k]; ok {
		return ch
	}
	ch := make(chan result[T], 1)
	p.pending[k] = ch
	go func() {
		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		v, err := p.load(k)
		<-p.sem
		ch <- result[T]{v, err}
	}()
	return ch
}

// Close stops the background work.
func (p *Prefetcher[T]) Close() { p.cancel() }
