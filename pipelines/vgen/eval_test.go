package vgen

import (
	"reflect"
	"slices"
	"testing"

	"github.com/omniar/omniar/datasets/digits"
)

func TestByGroup(t *testing.T) {
	for _, c := range []struct {
		v      []float64
		stride int
		want   string
	}{
		{[]float64{1, 0.5, 0.5, 0, 0}, 4, " 100.0%  25.0%"},
		{[]float64{1, 0.5, 0, 1, 1}, 2, " 100.0%  25.0% 100.0%"},
		{[]float64{0.5, 1}, 4, "  50.0% 100.0%"},
		{nil, 4, ""},
	} {
		if got := byGroup(c.v, c.stride); got != c.want {
			t.Errorf("byGroup(%v, %d) = %q, want %q", c.v, c.stride, got, c.want)
		}
	}
}

func TestTwoDigit(t *testing.T) {
	one := digits.Clip{Movers: make([]digits.Mover, 1)}
	two := digits.Clip{Movers: make([]digits.Mover, 2)}
	clips := []digits.Clip{one, two, one, two}
	for _, c := range []struct {
		items []int
		want  []int
		err   bool
	}{
		{[]int{0, 1, 2, 3}, []int{1, 3}, false},
		{[]int{3, 0, 1}, []int{0, 2}, false},
		{[]int{0, 2}, nil, true}, // no two-digit clip
		{[]int{1, 4}, nil, true}, // item past the split
		{[]int{-1}, nil, true},
	} {
		got, err := twoDigit(clips, c.items)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("twoDigit(%v) = %v, %v; want %v (error %v)", c.items, got, err, c.want, c.err)
		}
	}
}

// TestNLLSums checks the split of the teacher-forced cross-entropy by
// digit count: each count's mean, and the mean of all clips.
func TestNLLSums(t *testing.T) {
	var s nllSums
	s.add(1, [][]float64{{1, 2}})
	s.add(1, [][]float64{{3, 4}})
	s.add(2, [][]float64{{8, 9}})
	all, by := s.mean()
	want := [][][]float64{{{4, 5}}, {{2, 3}}, {{8, 9}}}
	for i, got := range [][][]float64{all, by[0], by[1]} {
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("mean %d: got %v, want %v", i, got, want[i])
		}
	}
	var none nllSums
	none.add(1, [][]float64{{1}})
	if _, by := none.mean(); by[1] != nil {
		t.Errorf("two-digit mean without two-digit clips: %v, want nil", by[1])
	}
}
