package otel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/internal/examplecheck"
)

// exampleExempt names the exported functions and types of this module that
// need no example of their own, each with the reason. List only names this
// module declares: the test fails on one that names nothing.
var exampleExempt = map[string]string{}

// TestEveryEntryPointHasAnExample checks that every exported function and
// type of the module has a runnable example, or is listed in exampleExempt
// with a reason.
func TestEveryEntryPointHasAnExample(t *testing.T) {
	dirs, err := examplecheck.Packages(".")
	require.NoError(t, err)
	require.Contains(t, dirs, ".", "the module's packages were not found")
	problems, err := examplecheck.Missing(dirs, exampleExempt)
	require.NoError(t, err)
	for _, p := range problems {
		t.Error(p)
	}
}
