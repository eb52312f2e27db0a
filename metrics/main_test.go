package metrics

import (
	"os"
	"testing"

	"github.com/omniar/omniar/internal/blas"
)

func TestMain(m *testing.M) {
	blas.Install()
	os.Exit(m.Run())
}
