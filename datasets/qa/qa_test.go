package qa

import (
	"testing"

	"github.com/omniar/omniar/datasets/digits"
)

func TestDigitsAnswer(t *testing.T) {
	clip := func(labels ...int) digits.Clip {
		var c digits.Clip
		for _, l := range labels {
			c.Movers = append(c.Movers, digits.Mover{Label: l})
		}
		return c
	}
	for _, tc := range []struct {
		c    digits.Clip
		want string
	}{
		{clip(7), "seven"},
		{clip(8, 4), "four and eight"}, // ascending, whatever the movers' order
		{clip(3, 3), "three and three"},
		{clip(9, 0, 5), "zero, five and nine"},
		{clip(), ""},
	} {
		if got := DigitsAnswer(tc.c); got != tc.want {
			t.Errorf("DigitsAnswer(%v) = %q, want %q", tc.c.Movers, got, tc.want)
		}
	}
}
