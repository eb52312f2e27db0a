package text

import (
	"os"
	"strings"
	"testing"

	"github.com/omniar/omniar/datasets"
)

func TestParse(t *testing.T) {
	in := "first\nquote  \n%\n\n%\nb\bbo\bol\bld _\bu\n%\nlast"
	got := Parse("cat", []byte(in))
	want := []string{"first\nquote", "bold u", "last"}
	if len(got) != len(want) {
		t.Fatalf("got %d quotes %q, want %d", len(got), got, len(want))
	}
	for i, q := range got {
		if q.Text != want[i] || q.Category != "cat" {
			t.Errorf("quote %d = %q (%s), want %q", i, q.Text, q.Category, want[i])
		}
	}
	if q := Parse("x", []byte("bad \xff utf8")); q[0].Text != "bad  utf8" {
		t.Errorf("invalid UTF-8 kept: %q", q[0].Text)
	}
}

func TestBuildReal(t *testing.T) {
	src := datasets.DefaultSources("")
	if _, err := os.Stat(src.Fortunes); err != nil {
		t.Skip("fortunes not installed (make data-deps)")
	}
	dir := t.TempDir()
	all, entries, err := Build(src, dir)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	cats := map[string]bool{}
	for _, q := range all {
		n[q.Split]++
		cats[q.Category] = true
	}
	if len(all) < 5000 || len(cats) < 20 || n["test"] < len(all)/40 || n["val"] < len(all)/40 {
		t.Errorf("%d quotes in %d categories, splits %v", len(all), len(cats), n)
	}
	back, err := Load(dir, "test")
	if err != nil || len(back) != n["test"] || len(entries) != 3 {
		t.Errorf("load test: %d quotes (%v), want %d", len(back), err, n["test"])
	}
	for _, q := range back {
		if strings.ContainsRune(q.Text, '\b') {
			t.Fatalf("overstrike left in %q", q.Text)
		}
	}
}
