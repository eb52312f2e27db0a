package digits

import (
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/disintegration/imaging"
)

// The Moving-digits recipe (Moving MNIST, on these digits): one or two
// digits, scaled to Glyph×Glyph, move in one of 8 directions on a Canvas×
// Canvas black canvas and bounce off its borders.
const (
	Canvas = 64
	Glyph  = 28
	Frames = 17 // 1 + 4k, for the 4× temporal tokenizer
)

// Direction is one of the 8 motion directions.
type Direction struct {
	Name   string // "left", "up-right", …
	Phrase string // "to the left", "up and to the right", …
	DX, DY float64
}

// Directions in counter-clockwise order from "right"; image y grows down.
var Directions = []Direction{
	{"right", "to the right", 1, 0},
	{"up-right", "up and to the right", 1, -1},
	{"up", "upwards", 0, -1},
	{"up-left", "up and to the left", -1, -1},
	{"left", "to the left", -1, 0},
	{"down-left", "down and to the left", -1, 1},
	{"down", "downwards", 0, 1},
	{"down-right", "down and to the right", 1, 1},
}

// Mover is one digit of a clip: its identity, initial motion and its
// top-left position and velocity in every frame (after bounces).
type Mover struct {
	ID    int          `json:"id"` // digit instance
	Label int          `json:"label"`
	Dir   string       `json:"dir"`   // initial direction
	Speed float64      `json:"speed"` // px per frame
	Pos   [][2]float64 `json:"pos"`   // [Frames] top-left x, y
	Vel   [][2]float64 `json:"vel"`   // [Frames] velocity leaving the frame
}

// Clip is the metadata of one Moving-digits clip.
type Clip struct {
	Index    int      `json:"index"`
	Split    string   `json:"split"`
	Movers   []Mover  `json:"movers"`
	Captions []string `json:"captions"`
}

// Overlap is the share of a glyph's Glyph×Glyph box that the two movers'
// boxes have in common in frame f (0 for a one-digit clip).
func (c Clip) Overlap(f int) float64 {
	if len(c.Movers) != 2 {
		return 0
	}
	a, b := c.Movers[0].Pos[f], c.Movers[1].Pos[f]
	w := max(0, Glyph-math.Abs(a[0]-b[0]))
	h := max(0, Glyph-math.Abs(a[1]-b[1]))
	return w * h / (Glyph * Glyph)
}

// clipRNG seeds clip i of a split independently of the split's size.
func clipRNG(split string, i int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte("moving-digits/" + split))
	return rand.New(rand.NewPCG(h.Sum64(), uint64(i)))
}

// NewClip draws clip i of a split from the digit instances ids (all of
// that split): 60% one digit, 40% two.
func NewClip(s *Set, split string, i int, ids []int) Clip {
	rng := clipRNG(split, i)
	n := 1
	if rng.Float64() < 0.4 {
		n = 2
	}
	c := Clip{Index: i, Split: split}
	for k := 0; k < n; k++ {
		id := ids[rng.IntN(len(ids))]
		c.Movers = append(c.Movers, newMover(rng, id, s.Digits[id].Label))
	}
	c.Captions = captions(rng, c.Movers)
	return c
}

func newMover(rng *rand.Rand, id, label int) Mover {
	d := Directions[rng.IntN(len(Directions))]
	speed := 1.5 + 2.5*rng.Float64()
	norm := math.Hypot(d.DX, d.DY)
	vx, vy := d.DX/norm*speed, d.DY/norm*speed
	x, y := start(rng, vx), start(rng, vy)
	m := Mover{ID: id, Label: label, Dir: d.Name, Speed: speed}
	for f := 0; f < Frames; f++ {
		m.Pos = append(m.Pos, [2]float64{x, y})
		x, vx = bounce(x+vx, vx)
		y, vy = bounce(y+vy, vy)
		m.Vel = append(m.Vel, [2]float64{vx, vy})
	}
	return m
}

// straight is how many frames a digit moves before it may first bounce, so
// the direction its captions name is what the first half of the clip shows.
const straight = Frames / 2

// start draws a start coordinate from which velocity v runs straight
// frames without leaving [0, Canvas−Glyph].
func start(rng *rand.Rand, v float64) float64 {
	const hi = Canvas - Glyph
	run := math.Abs(v) * straight
	p := rng.Float64() * (hi - run)
	if v < 0 {
		p += run
	}
	return p
}

// bounce reflects a coordinate that left [0, Canvas−Glyph].
func bounce(p, v float64) (float64, float64) {
	const hi = Canvas - Glyph
	switch {
	case p < 0:
		return -p, -v
	case p > hi:
		return 2*hi - p, -v
	}
	return p, v
}

// Render draws a clip into out ([Frames, Canvas, Canvas]); glyphs are the
// digits scaled to Glyph×Glyph (Set.Glyphs).
func Render(c Clip, glyphs [][]uint8, out []uint8) {
	clear(out)
	for f := 0; f < Frames; f++ {
		frame := out[f*Canvas*Canvas : (f+1)*Canvas*Canvas]
		for _, m := range c.Movers {
			g := glyphs[m.ID]
			x0, y0 := int(math.Round(m.Pos[f][0])), int(math.Round(m.Pos[f][1]))
			for y := 0; y < Glyph; y++ {
				row := frame[(y0+y)*Canvas+x0 : (y0+y)*Canvas+x0+Glyph]
				for x, v := range g[y*Glyph : (y+1)*Glyph] {
					row[x] = max(row[x], v)
				}
			}
		}
	}
}

// Glyphs returns every digit scaled to Glyph×Glyph (bilinear), computed once.
func (s *Set) Glyphs() [][]uint8 {
	s.glyphsOnce.Do(func() { s.glyphs = scaleGlyphs(s) })
	return s.glyphs
}

func scaleGlyphs(s *Set) [][]uint8 {
	out := make([][]uint8, Count)
	for id := range out {
		g := imaging.Resize(s.Crop(id), Glyph, Glyph, imaging.Linear)
		px := make([]uint8, Glyph*Glyph)
		for y := 0; y < Glyph; y++ {
			for x := 0; x < Glyph; x++ {
				px[y*Glyph+x] = g.Pix[y*g.Stride+4*x] // NRGBA: grey in R
			}
		}
		out[id] = px
	}
	return out
}

func speedWord(v float64) string {
	switch {
	case v < 2.3:
		return "slowly"
	case v > 3.2:
		return "quickly"
	}
	return ""
}

func phrase(dir string) string {
	for _, d := range Directions {
		if d.Name == dir {
			return d.Phrase
		}
	}
	return dir
}

// digitWord names a digit as a numeral or a word, at random.
func digitWord(rng *rand.Rand, label int) string {
	if rng.IntN(2) == 0 {
		return fmt.Sprint(label)
	}
	return Names[label]
}

var (
	oneTemplates = []string{
		"a {d} drifts {s} {p}", "the digit {d} moves {s} {p}", "a handwritten {d} travels {p} {s}",
		"{d} moving {p}", "a {d} slides {s} {p}", "one digit, a {d}, heading {p}",
	}
	twoTemplates = []string{
		"a {d1} moves {p1} while a {d2} moves {p2}", "the digits {d1} and {d2} bounce around",
		"{d1} goes {p1} and {d2} goes {p2}", "two digits: a {d1} heading {p1} and a {d2} heading {p2}",
	}
)

// captions writes three different phrasings of a clip's metadata.
func captions(rng *rand.Rand, ms []Mover) []string {
	tpl := oneTemplates
	if len(ms) == 2 {
		tpl = twoTemplates
	}
	var out []string
	for _, k := range rng.Perm(len(tpl))[:3] {
		r := strings.NewReplacer(
			"{d}", digitWord(rng, ms[0].Label), "{s}", speedWord(ms[0].Speed), "{p}", phrase(ms[0].Dir),
			"{d1}", digitWord(rng, ms[0].Label), "{p1}", phrase(ms[0].Dir),
			"{d2}", digitWord(rng, ms[len(ms)-1].Label), "{p2}", phrase(ms[len(ms)-1].Dir))
		out = append(out, strings.Join(strings.Fields(r.Replace(tpl[k])), " "))
	}
	return out
}

// Prompt is the clip's first caption that names every attribute a judge
// checks, each digit and its direction; one two-digit template ("the
// digits 3 and 5 bounce around") names no direction, and a generator
// cannot be scored on a direction it was not asked for. Clips with no
// such caption give their first.
func (c Clip) Prompt() string {
	for _, cap := range c.Captions {
		if namesDirections(cap, c.Movers) {
			return cap
		}
	}
	if len(c.Captions) == 0 {
		return ""
	}
	return c.Captions[0]
}

func namesDirections(caption string, ms []Mover) bool {
	for _, m := range ms {
		if !strings.Contains(caption, phrase(m.Dir)) {
			return false
		}
	}
	return true
}

// FrameImage returns frame f of a rendered clip as an image.
func FrameImage(clip []uint8, f int) *image.Gray {
	return &image.Gray{Pix: clip[f*Canvas*Canvas : (f+1)*Canvas*Canvas], Stride: Canvas, Rect: image.Rect(0, 0, Canvas, Canvas)}
}
