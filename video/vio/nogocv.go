//go:build !cgo || purego

package vio

import "fmt"

// scanCV needs OpenCV, which this build leaves out.
func scanCV(path string, _ ReadOptions, _ FrameFunc) (Info, error) {
	return Info{}, fmt.Errorf("video %s: video files need the cgo build with OpenCV: make deps", path)
}

// writeCV needs OpenCV, which this build leaves out.
func writeCV(path string, _ *Video) error {
	return fmt.Errorf("video files need the cgo build with OpenCV: make deps")
}

// HasOpenCV reports whether this build reads and writes video files
// through OpenCV.
const HasOpenCV = false
