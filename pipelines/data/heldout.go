package data

import (
	"fmt"
	"strings"

	"github.com/omniar/omniar/datasets"
	"github.com/omniar/omniar/datasets/digits"
)

// CheckHeldOut asserts that no held-out source instance reaches training:
// no val/test digit instance is drawn in a train clip (and each split's
// clips use only that split's digits), and no speaker voice or video source
// file of the test split labels a train file.
func CheckHeldOut(dir string, m *datasets.Manifest) error {
	set, err := digits.Load(dir)
	if err != nil {
		return err
	}
	for _, split := range datasets.Splits {
		mv, err := digits.LoadMoving(dir, split)
		if err != nil {
			return err
		}
		for _, c := range mv.Clips {
			for _, d := range c.Movers {
				if d.ID < 0 || d.ID >= len(set.Digits) {
					return fmt.Errorf("held-out check: %s clip %d draws digit %d, which does not exist", split, c.Index, d.ID)
				}
				if s := set.Digits[d.ID].Split; s != split {
					return fmt.Errorf("held-out check: %s clip %d draws digit %d of the %s split", split, c.Index, d.ID, s)
				}
			}
		}
	}
	for _, label := range []string{"voice", "variant", "sources"} {
		if err := disjoint(m, label); err != nil {
			return err
		}
	}
	return nil
}

// disjoint checks that no value of a label (a comma-separated list) on a
// test file labels a train file.
func disjoint(m *datasets.Manifest, label string) error {
	test := map[string]bool{}
	for _, e := range m.Entries {
		if e.Split == "test" {
			for _, v := range values(e, label) {
				test[v] = true
			}
		}
	}
	for _, e := range m.Entries {
		if e.Split != "train" {
			continue
		}
		for _, v := range values(e, label) {
			if test[v] {
				return fmt.Errorf("held-out check: %s %q is in the test split and in train file %s", label, v, e.Path)
			}
		}
	}
	return nil
}

func values(e datasets.Entry, label string) []string {
	v, ok := e.Labels[label]
	if !ok || v == "" {
		return nil
	}
	return strings.Split(v, ",")
}
