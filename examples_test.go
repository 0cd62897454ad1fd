package weft_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/internal/examplecheck"
)

// exampleExempt names the exported functions and types that need no
// example of their own, each with the reason. Keep it short: a name belongs
// here only when an example would show nothing its neighbours' do not.
var exampleExempt = map[string]string{
	"coalesce.Result":         "what DoChan delivers, shown by ExampleFlight_DoChan",
	"retry.Attempt":           "the loop variable of ExampleLoop",
	"retry.DeadLetter":        "the sink interface, shown by ExampleProcess",
	"retry.DeadLetterFunc":    "the sink adapter, shown by ExampleProcess",
	"retry.Letter":            "what a sink receives, shown by ExampleProcess",
	"retry.Event":             "what an OnEvent hook receives, shown by ExampleOnEvent",
	"pipeline.Event":          "what an OnEvent hook receives, shown by ExampleOnEvent",
	"pool.CloseError":         "shown by ExampleWorkers_Close",
	"pool.Event":              "what an OnEvent hook receives, shown by ExampleOnEvent",
	"pool.EventKind":          "an enum carried by Event, shown by ExampleOnEvent",
	"pool.Outcome":            "an enum carried by Event, printed by ExampleOnEvent",
	"fanout.Call":             "built by Required and Optional, shown by ExampleGather",
	"fanout.Result":           "an element of what Gather returns, shown by ExampleGather",
	"fanout.Status":           "an enum, printed by ExampleGather",
	"fanout.Distributor":      "returned by Distribute, shown by ExampleDistribute",
	"fanin.Merger":            "returned by NewMerger, shown by ExampleMerger",
	"fanin.Sorted":            "returned by MergeSorted, shown by ExampleMergeSorted",
	"breaker.State":           "an enum, printed by ExampleBreaker_Stats",
	"breaker.Reason":          "an enum carried by Event, printed by ExampleOnStateChange",
	"breaker.Event":           "what a listener receives, shown by ExampleOnStateChange",
	"breaker.Outcome":         "an enum, printed by ExampleDefaultOutcome",
	"breaker.Ticket":          "returned by Allow, shown by ExampleBreaker_Allow",
	"shutdown.Component":      "the interface Func, HTTPServer and Graceful return, shown by their examples",
	"shutdown.GracefulServer": "the interface Graceful takes, shown by ExampleGraceful",
	"shutdown.StartError":     "an error type matched with errors.As, like StopError",
	"shutdown.StopError":      "an error type matched with errors.As, like StartError",
	"shutdown.SignalError":    "the cause OnSignal's context carries, shown by ExampleOnSignal",
}

// TestEveryEntryPointHasAnExample checks that every exported function and
// type of every package of the module has a runnable example on
// pkg.go.dev, or is listed in exampleExempt with a reason; see
// [examplecheck.Missing] for what counts as an example.
func TestEveryEntryPointHasAnExample(t *testing.T) {
	dirs, err := examplecheck.Packages(".")
	require.NoError(t, err)
	require.Contains(t, dirs, "pool", "the module's packages were not found")
	problems, err := examplecheck.Missing(dirs, exampleExempt)
	require.NoError(t, err)
	for _, p := range problems {
		t.Error(p)
	}
}
