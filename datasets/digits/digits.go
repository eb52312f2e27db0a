// Package digits builds the handwritten-digits data set from OpenCV's
// digits.png (5,000 real digits, 20×20, 500 per class) and renders the
// Moving-digits clips made from them.
package digits

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/omniar/omniar/datasets"
)

const (
	// Size is the side of one digit image.
	Size = 20
	// PerClass is the number of digits of each class in digits.png.
	PerClass = 500
	// Count is the number of digits.
	Count = 10 * PerClass
	// splitSeed fixes the train/val/test assignment of digit instances.
	splitSeed = 20260101
)

// Names are the digit words, the answers of the understanding questions.
var Names = [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// Digit is one handwritten digit instance.
type Digit struct {
	ID      int    `json:"id"` // index in digits.png, row-major over the 50×100 grid
	Label   int    `json:"label"`
	Split   string `json:"split"`
	Caption string `json:"caption"`
}

// Set is the digit images and their metadata.
type Set struct {
	Pixels []uint8 // [Count, Size, Size], 0 = background
	Digits []Digit

	glyphsOnce sync.Once
	glyphs     [][]uint8
}

// Image returns the pixels of digit id.
func (s *Set) Image(id int) []uint8 { return s.Pixels[id*Size*Size : (id+1)*Size*Size] }

// IDs returns the ids of a split.
func (s *Set) IDs(split string) []int {
	var ids []int
	for _, d := range s.Digits {
		if d.Split == split {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// Parse cuts digits.png (2000×1000 grey: 100 digits a row, 5 rows a class)
// into digits, assigns stratified 80/10/10 splits by instance and captions.
func Parse(name string, data []byte) (*Set, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	b := img.Bounds()
	if b.Dx() != 100*Size || b.Dy() != 50*Size {
		return nil, fmt.Errorf("%s is %d×%d, want the 2000×1000 digits sheet of opencv-doc", name, b.Dx(), b.Dy())
	}
	s := &Set{Pixels: make([]uint8, Count*Size*Size), Digits: make([]Digit, Count)}
	for id := 0; id < Count; id++ {
		r, c := id/100, id%100
		px := s.Image(id)
		for y := 0; y < Size; y++ {
			for x := 0; x < Size; x++ {
				g, _, _, _ := img.At(b.Min.X+c*Size+x, b.Min.Y+r*Size+y).RGBA()
				px[y*Size+x] = uint8(g >> 8)
			}
		}
		s.Digits[id] = Digit{ID: id, Label: r / 5}
	}
	assignSplits(s)
	return s, nil
}

// assignSplits gives each class 400 train, 50 val and 50 test instances.
func assignSplits(s *Set) {
	rng := rand.New(rand.NewPCG(splitSeed, 1))
	for label := 0; label < 10; label++ {
		ids := rng.Perm(PerClass)
		for i, k := range ids {
			d := &s.Digits[label*PerClass+k]
			switch {
			case i < PerClass*8/10:
				d.Split = "train"
			case i < PerClass*9/10:
				d.Split = "val"
			default:
				d.Split = "test"
			}
			d.Caption = imageCaption(rng, label)
		}
	}
}

var imageTemplates = []string{"a handwritten %s", "the digit %s", "a %s written by hand", "handwritten number %s", "a scribbled %s"}

func imageCaption(rng *rand.Rand, label int) string {
	t := imageTemplates[rng.IntN(len(imageTemplates))]
	word := Names[label]
	if rng.IntN(2) == 0 {
		word = fmt.Sprint(label)
	}
	return fmt.Sprintf(t, word)
}

// Build writes digits/pixels.u8 and digits/digits.json from the source sheet.
func Build(src datasets.Sources, dir string) (*Set, []datasets.Entry, error) {
	path := filepath.Join(src.OpenCVData, "digits.png")
	if err := datasets.NeedFile(path, src.FixOpenCV()); err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	s, err := Parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	px, err := datasets.WriteFile(dir, "digits/pixels.u8", s.Pixels, "all", "digits", map[string]string{"shape": "5000x20x20"})
	if err != nil {
		return nil, nil, err
	}
	meta, _ := json.MarshalIndent(s.Digits, "", " ")
	idx, err := datasets.WriteFile(dir, "digits/digits.json", meta, "all", "digits", nil)
	if err != nil {
		return nil, nil, err
	}
	return s, []datasets.Entry{px, idx}, nil
}

// Load reads the digits a prepared data directory holds.
func Load(dir string) (*Set, error) {
	px, err := os.ReadFile(filepath.Join(dir, "digits", "pixels.u8"))
	if err != nil {
		return nil, fmt.Errorf("load digits: %w", err)
	}
	if len(px) != Count*Size*Size {
		return nil, fmt.Errorf("load digits: %s has %d bytes, want %d (rerun `omniar data prepare`)", filepath.Join(dir, "digits", "pixels.u8"), len(px), Count*Size*Size)
	}
	b, err := os.ReadFile(filepath.Join(dir, "digits", "digits.json"))
	if err != nil {
		return nil, fmt.Errorf("load digits: %w", err)
	}
	s := &Set{Pixels: px}
	if err := json.Unmarshal(b, &s.Digits); err != nil || len(s.Digits) != Count {
		return nil, fmt.Errorf("load digits: %s is corrupt (rerun `omniar data prepare`)", filepath.Join(dir, "digits", "digits.json"))
	}
	sort.Slice(s.Digits, func(i, j int) bool { return s.Digits[i].ID < s.Digits[j].ID })
	return s, nil
}

// Crop returns the digit's pixels as an image (for pictures and tests).
func (s *Set) Crop(id int) *image.Gray {
	return &image.Gray{Pix: append([]uint8(nil), s.Image(id)...), Stride: Size, Rect: image.Rect(0, 0, Size, Size)}
}

// readLines calls fn on every non-empty line of a file.
func readLines(path string, fn func([]byte) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s line %d: %w (rerun `omniar data prepare`)", path, i+1, err)
		}
	}
	return nil
}
