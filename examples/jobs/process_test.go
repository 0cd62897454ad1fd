package main

import (
	"testing"

	"github.com/weftgo/weft/examples/internal/proctest"
)

// The end-to-end tests run the program as a user does: built, as a process
// of its own, stopped by real signals.

// program is this example, built once per test binary (with the race
// detector when the tests run with it) and removed by TestMain.
var program = &proctest.Program{Name: "jobs", Race: raceEnabled}

type process = proctest.Process

// start runs the program with args; the test's cleanup kills it if the
// test ends before it exits.
func start(t *testing.T, args ...string) *process {
	t.Helper()
	return program.Start(t, "", args...)
}
