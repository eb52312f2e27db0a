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
// digit count and by cells: each part's mean over its codes, and the
// mean of all.
func TestNLLSums(t *testing.T) {
	var s nllSums
	// one latent frame, scales 1 and 2 (1 + 4 cells)
	s.add(1, [][][]float64{{{1}, {2, 4, 6, 8}}}, [][][]bool{{{true}, {true, false, false, false}}})
	s.add(1, [][][]float64{{{3}, {4, 4, 4, 4}}}, [][][]bool{{{true}, {true, true, false, false}}})
	s.add(2, [][][]float64{{{8}, {9, 9, 9, 9}}}, [][][]bool{{{true}, {true, true, true, true}}})
	all, by, cells := s.mean()
	want := [][][]float64{{{4, 6}}, {{2, 4.5}}, {{8, 9}}}
	for i, got := range [][][]float64{all, by[0], by[1]} {
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("mean %d: got %v, want %v", i, got, want[i])
		}
	}
	wantCells := [][][][]CellNLL{
		{{{{2, 2}, {10.0 / 3, 3}}}, {{{}, {26.0 / 5, 5}}}},
		{{{{8, 1}, {9, 4}}}, {{{}, {}}}}, // no empty cell
	}
	if !reflect.DeepEqual(cells, wantCells) {
		t.Errorf("by cells: got %v, want %v", cells, wantCells)
	}
	var none nllSums
	none.add(1, [][][]float64{{{1}}}, [][][]bool{{{true}}})
	if _, by, cells := none.mean(); by[1] != nil || cells[1] != nil {
		t.Errorf("two-digit means without two-digit clips: %v, %v, want nil", by[1], cells[1])
	}
}

// TestInkCells checks which cells of each latent frame and scale show ink:
// frame 0 is video frame 0, frame 1 video frames 1 … stride.
func TestInkCells(t *testing.T) {
	const canvas, stride = 6, 2
	pixels := make([]uint8, 3*canvas*canvas)
	pixels[0*canvas*canvas+0*canvas+5] = 255          // frame 0, top right
	pixels[2*canvas*canvas+5*canvas+0] = inkLevel     // frame 2, bottom left
	pixels[1*canvas*canvas+3*canvas+3] = inkLevel - 1 // faint: no ink
	got := inkCells(pixels, canvas, stride, 2, []int{1, 2, 3})
	want := [][][]bool{
		{{true}, {false, true, false, false}, {false, false, true, false, false, false, false, false, false}},
		{{true}, {false, false, true, false}, {false, false, false, false, false, false, true, false, false}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("inkCells = %v, want %v", got, want)
	}
}
