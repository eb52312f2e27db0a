package eval

import (
	"strings"
	"testing"
)

// TestTrainOptionsBad: out-of-range training options are refused with a
// message naming the option, before any data is read.
func TestTrainOptionsBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  TrainOptions
		want string
	}{
		{"no output", TrainOptions{}, "no output"},
		{"negative steps", TrainOptions{Out: "w", Steps: -1}, "steps -1"},
		{"negative warm-up", TrainOptions{Out: "w", Warmup: -5}, "warm-up -5"},
		{"two-digit share above 1", TrainOptions{Out: "w", TwoShare: 1.5}, "share 1.5"},
		{"negative two-digit share", TrainOptions{Out: "w", TwoShare: -0.1}, "share -0.1"},
	} {
		_, err := tc.opt.withDefaults(10, 4, 1e-3)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	o, err := TrainOptions{Out: "w", TwoShare: 0.6}.withDefaults(100, 4, 1e-3)
	if err != nil || o.Warmup != 5 || o.Ckpt != "w.train" {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}
