package datasets

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Sources are where the raw material comes from: files of Debian packages
// that `make data-deps` installs or extracts.
type Sources struct {
	OpenCVData string // examples/data of the opencv-doc package (digits.png, *.avi)
	Fortunes   string // the fortunes package's quotation files
	AlsaSounds string // alsa-utils' recorded speech
	Espeak     string // the espeak-ng program
	Lame       string // the lame MP3 encoder
}

// DefaultSources are the locations `make data-deps` uses; srcDir holds
// the extracted opencv-doc package.
func DefaultSources(srcDir string) Sources {
	return Sources{
		OpenCVData: filepath.Join(srcDir, "opencv-doc", "usr", "share", "doc", "opencv-doc", "examples", "data"),
		Fortunes:   "/usr/share/games/fortunes",
		AlsaSounds: "/usr/share/sounds/alsa",
		Espeak:     "espeak-ng",
		Lame:       "lame",
	}
}

// fix says how to get each source.
const (
	fixOpenCV = "run `make data-deps` (it does `apt-get download opencv-doc` and `dpkg -x` into the source directory)"
	fixApt    = "run `make data-deps` (apt-get install -y fortunes espeak-ng alsa-utils lame)"
)

// NeedFile checks that a source file exists and is not empty.
func NeedFile(path, fix string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("source %s is missing: %s", path, fix)
	case st.Size() == 0:
		return fmt.Errorf("source %s is empty: %s", path, fix)
	}
	return nil
}

// NeedProgram checks that a program is on PATH.
func NeedProgram(name, fix string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("program %s is missing: %s", name, fix)
	}
	return p, nil
}

// FixOpenCV and FixApt are the repair hints for missing sources.
func (Sources) FixOpenCV() string { return fixOpenCV }

// FixApt is the repair hint for missing Debian programs and files.
func (Sources) FixApt() string { return fixApt }
