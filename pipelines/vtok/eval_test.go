package vtok

import (
	"context"
	"os"
	"testing"

	"github.com/omniar/omniar/internal/blas"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}

// TestEvalCheckpoint evaluates a trained tokenizer when one is named
// (OMNIAR_TOKENIZER_CKPT, with the data of `make data`).
func TestEvalCheckpoint(t *testing.T) {
	ck := os.Getenv("OMNIAR_TOKENIZER_CKPT")
	if ck == "" {
		t.Skip("set OMNIAR_TOKENIZER_CKPT to a tokenizer checkpoint")
	}
	home, _ := os.UserHomeDir()
	r, err := Eval(context.Background(), EvalOptions{Data: home + "/.cache/omniar/data", Ckpt: ck, Frames: 1, Clips: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
}
