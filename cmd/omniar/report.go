package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/omniar/omniar/internal/atomicfile"
)

// writeReport writes v as indented JSON to path, atomically: the JSON
// reports that `make results` reads.
func writeReport(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// commandLine is the command line as a report records it.
func commandLine() string { return "omniar " + strings.Join(os.Args[1:], " ") }
