package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResultsCmd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	tests := []struct {
		name   string
		docs   string
		code   int
		stdout string
		stderr string
	}{
		{"writes the page", "../../pipelines/results/testdata/full", 0, "wrote " + out, ""},
		{"malformed report", "../../pipelines/results/testdata/malformed", 1, "", "malformed/eval/judge.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"results", "--docs", tt.docs, "--out", out}, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
		})
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "# OmniAR results") {
		t.Errorf("page: %v\n%s", err, b)
	}
}
