package pipeline_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/pipeline"
)

// A stage's workers start as items wait for them, so memory grows with the
// work, not with the limit: a large Workers on a short input starts a few
// goroutines, not one per unit of limit.
func TestWorkersStartWithWork(t *testing.T) {
	before := runtime.NumGoroutine()
	gate := make(chan struct{})
	src := pipeline.Generate(context.Background(), func(_ context.Context, emit func(int) error) error {
		if err := emit(1); err != nil {
			return err
		}
		<-gate // the stage stays running while the sink looks
		return nil
	})
	var got []int
	during := 0
	for v, err := range pipeline.All(pipeline.Map(src, inc, pipeline.Concurrency(1<<16))) {
		require.NoError(t, err)
		if during == 0 {
			during = runtime.NumGoroutine()
			close(gate)
		}
		got = append(got, v)
	}
	assert.Equal(t, []int{2}, got)
	assert.Less(t, during-before, 10, "goroutines running for one item")
}
