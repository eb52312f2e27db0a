package vgen

import (
	"testing"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/nn"
	"github.com/omniar/omniar/videoar"
)

func TestMotionTargets(t *testing.T) {
	l, err := videoar.NewLayout(8, 2, []int{1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	still := func(x, y, vx, vy float64) digits.Mover {
		m := digits.Mover{Pos: make([][2]float64, digits.Frames), Vel: make([][2]float64, digits.Frames)}
		for i := range m.Pos {
			m.Pos[i], m.Vel[i] = [2]float64{x, y}, [2]float64{vx, vy}
		}
		return m
	}
	right, up, none := 0, 2, MotionClasses-1
	// glyph centres (14, 14) and (50, 50): cells (0,0) and (3,3) of the 4×4 scale
	a, b := still(0, 0, 2, 0), still(36, 36, 0, -3)
	tests := []struct {
		name  string
		clip  digits.Clip
		frame int
		scale int
		y, x  int
		want  int
	}{
		{"one digit, whole frame", digits.Clip{Movers: []digits.Mover{a}}, 0, 0, 0, 0, right},
		{"two ways, whole frame", digits.Clip{Movers: []digits.Mover{a, b}}, 0, 0, 0, 0, nn.IgnoreIndex},
		{"first digit's cell", digits.Clip{Movers: []digits.Mover{a, b}}, 1, 2, 0, 0, right},
		{"second digit's cell", digits.Clip{Movers: []digits.Mover{a, b}}, 1, 2, 3, 3, up},
		{"empty cell", digits.Clip{Movers: []digits.Mover{a, b}}, 1, 2, 0, 3, none},
		{"same way", digits.Clip{Movers: []digits.Mover{a, still(30, 30, 2, 0)}}, 0, 0, 0, 0, right},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := motionTargets(l, tc.clip, 4)
			if len(got) != l.Visual() {
				t.Fatalf("%d targets for %d visual positions", len(got), l.Visual())
			}
			k := l.Scales[tc.scale]
			v := l.Start(tc.frame, tc.scale) + tc.y*k + tc.x
			if c := l.Cell(v); c.Frame != tc.frame || c.Y != tc.y || c.X != tc.x {
				t.Fatalf("visual %d is %+v", v, c)
			}
			if got[v] != tc.want {
				t.Errorf("class %d, want %d", got[v], tc.want)
			}
		})
	}
}
