package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring of stdout
		stderr     string // substring of stderr
		emptyError bool   // stderr must be empty
	}{
		{name: "version", args: []string{"version"}, code: 0, stdout: "omniar ", emptyError: true},
		{name: "version shows blas", args: []string{"version"}, code: 0, stdout: "blas:"},
		{name: "no args prints help", args: nil, code: 0, stdout: "Available Commands:", emptyError: true},
		{name: "help flag", args: []string{"--help"}, code: 0, stdout: "Usage:", emptyError: true},
		{name: "verb help flag", args: []string{"version", "--help"}, code: 0, stdout: "omniar version", emptyError: true},
		{name: "help verb", args: []string{"help", "version"}, code: 0, stdout: "omniar version"},
		{name: "unknown command", args: []string{"nosuch"}, code: 2, stderr: `omniar: unknown command "nosuch" for "omniar"`},
		{name: "unknown command suggestion", args: []string{"versoin"}, code: 2, stderr: "did you mean version?"},
		{name: "unknown flag", args: []string{"--nosuch"}, code: 2, stderr: "omniar: unknown flag: --nosuch"},
		{name: "unknown verb flag", args: []string{"version", "--nosuch"}, code: 2, stderr: "Run 'omniar version --help' for usage."},
		{name: "extra argument", args: []string{"version", "extra"}, code: 2, stderr: `unknown command "extra" for "omniar version"`},
		{name: "bad log level", args: []string{"--log-level", "loud", "version"}, code: 2, stderr: "--log-level"},
		{name: "good log level", args: []string{"--log-level", "debug", "version"}, code: 0, stdout: "omniar "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout %q does not contain %q", &stdout, tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", &stderr, tt.stderr)
			}
			if tt.emptyError && stderr.Len() > 0 {
				t.Errorf("stderr not empty: %q", &stderr)
			}
			if n := strings.Count(stderr.String(), "omniar: "); n > 1 {
				t.Errorf("error printed %d times: %q", n, &stderr)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		code int
	}{
		{nil, 0},
		{errors.New("disk full"), 1},
		{usageErrorf("bad --size %q", "huge"), 2},
		{fmt.Errorf("version: %w", usageErrorf("bad")), 2},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.code {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.code)
		}
	}
}
