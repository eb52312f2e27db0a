package digits

import (
	"context"
	"reflect"
	"testing"
)

func buildFake(t testing.TB, n int) *Moving {
	dir := t.TempDir()
	if _, _, err := BuildMoving(context.Background(), fakeSet(), dir, "train", n); err != nil {
		t.Fatal(err)
	}
	m, err := LoadMoving(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoaderResumes(t *testing.T) {
	m := buildFake(t, 50)
	a := m.NewLoader(8, 1, 2)
	defer a.Close()
	var want []Batch
	for k := int64(0); k < 10; k++ {
		b, err := a.Batch(k)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
	}
	// a second loader started at batch 6 (a resumed run) sees the same data
	b := m.NewLoader(8, 1, 2)
	defer b.Close()
	for k := int64(6); k < 10; k++ {
		got, err := b.Batch(k)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[k]) {
			t.Fatalf("batch %d differs after resume", k)
		}
	}
}

// BenchmarkLoader measures clips/s served to a training loop (the issue
// asks for ≥ 2,000 on 2 cores).
func BenchmarkLoader(b *testing.B) {
	m := buildFake(b, 2000)
	l := m.NewLoader(32, 1, 4)
	defer l.Close()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		if _, err := l.Batch(int64(k)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*32)/b.Elapsed().Seconds(), "clips/s")
}
