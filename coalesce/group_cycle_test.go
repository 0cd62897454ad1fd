package coalesce_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/coalesce"
)

// A call from fn for fn's own key, made with fn's context, fails at once
// with ErrCycle instead of waiting on itself; the outer call gets what fn
// returns and the key is free for the next caller.
func TestGroupCallFromFnForItsOwnKeyFailsWithErrCycle(t *testing.T) {
	tests := []struct {
		name   string
		outer  func(*testing.T) context.Context // the outer caller's context
		direct bool                             // the inner call is a Do, else DoChan
	}{
		{"fn on the caller's goroutine, inner Do", background, true},
		{"fn on the caller's goroutine, inner DoChan", background, false},
		{"fn on a goroutine of the Group's, inner Do", withCancel, true},
		{"fn on a goroutine of the Group's, inner DoChan", withCancel, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var g coalesce.Group[string, int]
				var inner error
				v, err := g.Do(tt.outer(t), "k", func(ctx context.Context) (int, error) {
					// A context derived from fn's carries the execution too.
					ctx, cancel := context.WithCancel(ctx)
					defer cancel()
					fn := func(context.Context) (int, error) { return 2, nil }
					if tt.direct {
						_, inner = g.Do(ctx, "k", fn)
					} else {
						inner = (<-g.DoChan(ctx, "k", fn)).Err
					}
					return 1, nil
				})
				require.NoError(t, err)
				assert.Equal(t, 1, v)
				assert.ErrorIs(t, inner, coalesce.ErrCycle)

				v, err = g.Do(context.Background(), "k", func(context.Context) (int, error) { return 3, nil })
				assert.Equal(t, 3, v, "the key is poisoned")
				assert.NoError(t, err)
			})
		})
	}
}

// withCancel returns a context that can be cancelled, so that fn runs on
// a goroutine of the Group's; it ends with the test.
func withCancel(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// background returns a context that can never be cancelled, so that fn
// runs on the caller's goroutine.
func background(*testing.T) context.Context { return context.Background() }

// A cycle through two keys, a's fn waiting on b and b's fn on a, is found
// too; calls from fn for unrelated keys, and from unrelated contexts for
// fn's key, are not cycles.
func TestGroupCycleThroughAnotherKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Group[string, int]
		var cycle, other error
		v, err := g.Do(withCancel(t), "a", func(ctx context.Context) (int, error) {
			return g.Do(ctx, "b", func(ctx context.Context) (int, error) {
				_, cycle = g.Do(ctx, "a", func(context.Context) (int, error) { return 0, nil })
				_, other = g.Do(ctx, "c", func(context.Context) (int, error) { return 0, nil })
				return 5, nil
			})
		})
		require.NoError(t, err)
		assert.Equal(t, 5, v)
		assert.ErrorIs(t, cycle, coalesce.ErrCycle)
		assert.NoError(t, other)

		// A caller with a context of its own joins the execution as usual.
		release := make(chan struct{})
		first := g.DoChan(withCancel(t), "a", func(context.Context) (int, error) {
			<-release
			return 7, nil
		})
		synctest.Wait()
		joined := g.DoChan(withCancel(t), "a", nil)
		close(release)
		assert.Equal(t, 7, (<-first).Value)
		r := <-joined
		assert.Equal(t, 7, r.Value)
		assert.True(t, r.Shared)
	})
}
