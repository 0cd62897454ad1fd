package bench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"
)

// TestMain checks, after every test and benchmark has run, that none of
// them left a goroutine behind.
//
// It does what goleak.VerifyTestMain does, with one step first: importing
// ants starts a default pool (a purge goroutine and a clock goroutine) in
// the package's init, which nothing here uses. Releasing it, and waiting for
// its goroutines to end, lets goleak check everything else without an
// ignore rule that would also hide a leak of the pools the benchmarks make.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := ants.ReleaseTimeout(10 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "bench: releasing ants' default pool: %v\n", err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: goroutines left behind: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
