package digits

import (
	"github.com/omniar/omniar/datasets"
)

// Batch is a training batch of Moving-digits clips.
type Batch struct {
	Pixels []uint8 // [B, Frames, Canvas, Canvas]
	Clips  []Clip
}

// Loader serves batches of a split in a seeded order with background
// prefetch; batch k is a pure function of k (see datasets.Order), so a
// training checkpoint's step counter is its data position.
type Loader struct {
	m     *Moving
	order datasets.Order
	pf    *datasets.Prefetcher[Batch]
}

// NewLoader makes a loader of batch clips, looking depth batches ahead.
func (m *Moving) NewLoader(batch int, seed uint64, depth int) *Loader {
	l := &Loader{m: m, order: datasets.Order{N: len(m.Clips), Batch: batch, Seed: seed}}
	l.pf = datasets.NewPrefetcher(l.load, depth, 2)
	return l
}

func (l *Loader) load(k int64) (Batch, error) {
	idx := l.order.Indices(k)
	b := Batch{Pixels: make([]uint8, len(idx)*ClipBytes), Clips: make([]Clip, len(idx))}
	for i, j := range idx {
		copy(b.Pixels[i*ClipBytes:], l.m.Store.Clip(j))
		b.Clips[i] = l.m.Clips[j]
	}
	return b, nil
}

// Batch returns batch k.
func (l *Loader) Batch(k int64) (Batch, error) { return l.pf.Get(k) }

// Close stops the prefetching.
func (l *Loader) Close() { l.pf.Close() }
