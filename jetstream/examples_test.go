package jetstream_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/internal/examplecheck"
)

// exampleExempt names the exported functions and types of this module that
// need no example of their own, each with the reason.
var exampleExempt = map[string]string{
	"jetstream.JSON":        "the default Codec; ExampleParseLetter prints a body it encoded",
	"jetstream.Letter":      "what ParseLetter returns, shown by ExampleParseLetter",
	"jetstream.Delivery":    "what Source hands a pipeline, shown by ExampleSource",
	"jetstream.Stats":       "pool.Stats under this package's name, printed by ExampleWorkers",
	"jetstream.DecodeError": "an error type matched with errors.As, shown by ExampleDeadLetter",
	"jetstream.CloseError":  "an error type matched with errors.As, shown by ExampleWorkers_Close",
	"embedded.Server":       "returned by Start, shown by ExampleStart",
	"embedded.Port":         "takes a fixed TCP port, which an example cannot count on being free",
}

// TestEveryEntryPointHasAnExample checks that every exported function and
// type of every package of this module has a runnable example, or is listed
// in exampleExempt with a reason.
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
