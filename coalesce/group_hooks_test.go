package coalesce_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/coalesce"
)

// TestOnDoneSeesTheExecutionsOfAScriptedRun runs three callers of one key,
// one of which leaves, an inline caller of another, and an execution every
// caller leaves before it can start.
func TestOnDoneSeesTheExecutionsOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var events []string
		g := coalesce.NewFlight[string, int](coalesce.OnDone(func(key string, callers int, err error) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, fmt.Sprintf("%v %s callers=%d err=%v", time.Since(start), key, callers, err))
		}))
		slow := func(ctx context.Context) (int, error) {
			select {
			case <-time.After(time.Second):
				return 1, nil
			case <-ctx.Done():
				time.Sleep(time.Second) // outlives its callers
				return 0, ctx.Err()
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 100 * time.Millisecond)
				cctx := ctx
				if i == 2 {
					var c context.CancelFunc
					cctx, c = context.WithTimeout(ctx, 100*time.Millisecond)
					defer c()
				}
				_, _ = g.Do(cctx, "a", slow)
			})
		}
		wg.Wait()
		synctest.Wait()

		_, err := g.Do(context.Background(), "b", func(context.Context) (int, error) {
			time.Sleep(time.Second)
			return 0, errors.New("down")
		})
		require.Error(t, err)

		// c1 leaves; its execution runs on for a second. c2 arrives, queues
		// behind it, and leaves too before its execution can start.
		c1, cancel1 := context.WithCancelCause(context.Background())
		r1 := g.DoChan(c1, "c", slow)
		synctest.Wait() // fn has started
		cancel1(errors.New("c1 gave up"))
		<-r1
		c2, cancel2 := context.WithCancelCause(context.Background())
		r2 := g.DoChan(c2, "c", slow)
		cancel2(errors.New("c2 gave up"))
		<-r2
		time.Sleep(2 * time.Second)
		synctest.Wait()

		assert.Equal(t, []string{
			"1s a callers=3 err=<nil>",
			"2s b callers=1 err=down",
			"3s c callers=1 err=context canceled",
			"3s c callers=1 err=c2 gave up",
		}, events)
	})
}

func TestOnDonePanicGoesToOnPanic(t *testing.T) {
	var got []any
	g := coalesce.NewFlight[string, int](
		coalesce.OnDone(func(string, int, error) { panic("hook") }),
		coalesce.OnPanic(func(key string, pe *weft.PanicError) { got = append(got, pe.Value) }),
	)
	v, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
	require.NoError(t, err)
	assert.Equal(t, 7, v)
	assert.Equal(t, []any{"hook"}, got)
}

func TestOnDoneNilPanics(t *testing.T) {
	assert.PanicsWithValue(t, "coalesce: OnDone(nil)", func() { coalesce.OnDone[string](nil) })
}
