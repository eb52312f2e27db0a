package digits

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// fakeSet is a digit set of solid squares, enough to test the clip recipe
// without the source sheet.
func fakeSet() *Set {
	s := &Set{Pixels: make([]uint8, Count*Size*Size), Digits: make([]Digit, Count)}
	for i := range s.Pixels {
		s.Pixels[i] = 255
	}
	for id := range s.Digits {
		s.Digits[id] = Digit{ID: id, Label: id / PerClass}
	}
	assignSplits(s)
	return s
}

func TestClipsStayOnCanvasAndBounce(t *testing.T) {
	s := fakeSet()
	ids := s.IDs("train")
	bounced := 0
	for i := 0; i < 500; i++ {
		c := NewClip(s, "train", i, ids)
		if n := len(c.Movers); n < 1 || n > 2 {
			t.Fatalf("clip %d has %d digits", i, n)
		}
		for _, m := range c.Movers {
			if s.Digits[m.ID].Split != "train" || s.Digits[m.ID].Label != m.Label {
				t.Fatalf("clip %d uses digit %d of split %s", i, m.ID, s.Digits[m.ID].Split)
			}
			for f := 1; f <= straight; f++ {
				if m.Vel[f-1] != m.Vel[0] {
					t.Fatalf("clip %d: digit bounced at frame %d, before frame %d", i, f, straight)
				}
			}
			for f, p := range m.Pos {
				if p[0] < 0 || p[1] < 0 || p[0] > Canvas-Glyph || p[1] > Canvas-Glyph {
					t.Fatalf("clip %d frame %d: digit at %v leaves the canvas", i, f, p)
				}
				if f > 0 && (math.Signbit(m.Vel[f][0]) != math.Signbit(m.Vel[f-1][0]) || math.Signbit(m.Vel[f][1]) != math.Signbit(m.Vel[f-1][1])) {
					bounced++
				}
				if v := math.Hypot(m.Vel[f][0], m.Vel[f][1]); math.Abs(v-m.Speed) > 1e-9 {
					t.Fatalf("speed changed from %g to %g", m.Speed, v)
				}
			}
		}
		if len(c.Captions) != 3 || c.Captions[0] == c.Captions[1] {
			t.Fatalf("clip %d captions %q", i, c.Captions)
		}
	}
	if bounced == 0 {
		t.Error("no digit ever bounced")
	}
}

func TestClipsDeterministic(t *testing.T) {
	s := fakeSet()
	ids := s.IDs("val")
	a, b := NewClip(s, "val", 17, ids), NewClip(s, "val", 17, ids)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same clip drawn twice differs")
	}
	if c := NewClip(s, "test", 17, s.IDs("test")); reflect.DeepEqual(a.Movers, c.Movers) {
		t.Error("val and test clip 17 are the same")
	}
}

func TestRenderAndCaptions(t *testing.T) {
	s := fakeSet()
	glyphs := s.Glyphs()
	c := Clip{Movers: []Mover{{ID: 0, Label: 0, Dir: "left", Speed: 2}}}
	for f := 0; f < Frames; f++ {
		c.Movers[0].Pos = append(c.Movers[0].Pos, [2]float64{30 - 2*float64(f%10), 10})
	}
	out := make([]uint8, Frames*Canvas*Canvas)
	Render(c, glyphs, out)
	img := FrameImage(out, 0)
	if img.GrayAt(30, 10).Y == 0 || img.GrayAt(29, 10).Y != 0 || img.GrayAt(30+Glyph, 10).Y != 0 {
		t.Error("frame 0 does not show the glyph at (30, 10)")
	}
	words := strings.Join(captions(clipRNG("x", 1), c.Movers), " | ")
	if !strings.Contains(words, "left") {
		t.Errorf("captions %q do not say left", words)
	}
}

// realSet is the fake set with the 20 real digits of testdata/digits20.png
// in place of the first two instances of each class.
func realSet(t *testing.T) *Set {
	b, err := os.ReadFile("testdata/digits20.png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	g := img.(*image.Gray)
	s := fakeSet()
	for c := 0; c < 10; c++ {
		for n := 0; n < 2; n++ {
			px := s.Image(c*PerClass + n)
			for y := 0; y < Size; y++ {
				copy(px[y*Size:(y+1)*Size], g.Pix[y*g.Stride+(2*c+n)*Size:])
			}
		}
	}
	return s
}

// TestRenderRealDigit: a lone real digit is drawn whole in every frame, so
// the ink of every frame is the same.
func TestRenderRealDigit(t *testing.T) {
	s := realSet(t)
	out := make([]uint8, ClipBytes)
	for _, id := range []int{0, 3*PerClass + 1, 7 * PerClass} {
		c := Clip{Movers: []Mover{newMover(clipRNG("t", id), id, s.Digits[id].Label)}}
		Render(c, s.Glyphs(), out)
		var first int
		for f := 0; f < Frames; f++ {
			ink := 0
			for _, v := range FrameImage(out, f).Pix {
				ink += int(v)
			}
			if f == 0 {
				first = ink
			}
			if ink == 0 || ink != first {
				t.Fatalf("digit %d frame %d has ink %d, frame 0 %d", id, f, ink, first)
			}
		}
	}
}

func TestPromptNamesDirections(t *testing.T) {
	two := []Mover{{Label: 3, Dir: "left"}, {Label: 5, Dir: "up-right"}}
	cases := []struct {
		name     string
		movers   []Mover
		captions []string
		want     string
	}{
		{"first names all", two, []string{"3 goes to the left and 5 goes up and to the right", "the digits 3 and 5 bounce around"},
			"3 goes to the left and 5 goes up and to the right"},
		{"skips the directionless", two, []string{"the digits 3 and 5 bounce around", "a 3 moves to the left while a 5 moves up and to the right"},
			"a 3 moves to the left while a 5 moves up and to the right"},
		{"one of two named", two, []string{"a 3 moves to the left", "the digits 3 and 5 bounce around"}, "a 3 moves to the left"},
		{"one digit", []Mover{{Label: 7, Dir: "down"}}, []string{"a 7 slides downwards"}, "a 7 slides downwards"},
		{"no captions", two, nil, ""},
	}
	for _, c := range cases {
		if got := (Clip{Movers: c.movers, Captions: c.captions}).Prompt(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestOverlap(t *testing.T) {
	two := func(ax, ay, bx, by float64) Clip {
		return Clip{Movers: []Mover{{Pos: [][2]float64{{ax, ay}}}, {Pos: [][2]float64{{bx, by}}}}}
	}
	for _, tc := range []struct {
		name string
		c    Clip
		want float64
	}{
		{"same place", two(5, 5, 5, 5), 1},
		{"half a glyph right", two(0, 0, Glyph/2, 0), 0.5},
		{"a quarter glyph right and down", two(10, 10, 10+Glyph/4, 10+Glyph/4), 0.75 * 0.75},
		{"apart", two(0, 0, Glyph, 0), 0},
		{"far apart", two(0, 0, 36, 36), 0},
		{"one digit", Clip{Movers: []Mover{{Pos: [][2]float64{{0, 0}}}}}, 0},
	} {
		if got := tc.c.Overlap(0); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: overlap %g, want %g", tc.name, got, tc.want)
		}
	}
}
