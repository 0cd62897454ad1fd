package fanout_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/fanout"
)

// settledCtx is a context whose Done first lets every other goroutine of
// the bubble run until it blocks: Hedged's select then finds every event
// that was on its way ready at once.
type settledCtx struct{ context.Context }

func (c settledCtx) Done() <-chan struct{} {
	synctest.Wait()
	return c.Context.Done()
}

// When a failure that would start the next hedge and the end of ctx are
// ready at the same time, Hedged starts no call on a context that is
// already done. (Which of two ready cases a select takes is random, so the
// race is run many times.)
func TestHedgedStartsNoCallOnceCtxIsDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for range 64 {
			ctx, cancel := context.WithCancel(context.Background())
			late := 0
			_, err := fanout.Hedged(settledCtx{ctx}, time.Hour,
				func(context.Context) (int, error) {
					cancel() // ctx ends, and this call fails, at once
					return 0, errBoom
				},
				func(context.Context) (int, error) {
					late++
					return 1, nil
				},
			)
			require.ErrorIs(t, err, context.Canceled)
			assert.ErrorIs(t, err, errBoom)
			assert.Zero(t, late, "a call started after ctx was done")
		}
	})
}
