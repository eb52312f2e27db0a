package datasets

import (
	"errors"
	"reflect"
	"sort"
	"sync/atomic"
	"testing"
)

func TestOrderCoversEpochs(t *testing.T) {
	o := Order{N: 10, Batch: 4, Seed: 3}
	var seen []int
	for k := int64(0); k < 5; k++ { // 20 examples: two epochs
		seen = append(seen, o.Indices(k)...)
	}
	for e := 0; e < 2; e++ {
		ep := append([]int(nil), seen[e*10:(e+1)*10]...)
		sort.Ints(ep)
		for i, v := range ep {
			if v != i {
				t.Fatalf("epoch %d is not a permutation: %v", e, seen[e*10:(e+1)*10])
			}
		}
	}
	if reflect.DeepEqual(seen[:10], seen[10:]) {
		t.Error("both epochs have the same order")
	}
	if !reflect.DeepEqual(o.Indices(3), Order{N: 10, Batch: 4, Seed: 3}.Indices(3)) {
		t.Error("batch 3 differs between two equal orders (resume would change data)")
	}
}

func TestPrefetcher(t *testing.T) {
	var calls atomic.Int64
	p := NewPrefetcher(func(k int64) (int64, error) {
		calls.Add(1)
		if k == 7 {
			return 0, errors.New("bad batch")
		}
		return k * k, nil
	}, 2, 2)
	defer p.Close()
	for k := int64(0); k < 7; k++ {
		v, err := p.Get(k)
		if err != nil || v != k*k {
			t.Fatalf("Get(%d) = %d, %v", k, v, err)
		}
	}
	if _, err := p.Get(7); err == nil {
		t.Error("load error not returned")
	}
	if n := calls.Load(); n < 8 || n > 10 {
		t.Errorf("%d loads for 8 batches with depth 2", n)
	}
}
