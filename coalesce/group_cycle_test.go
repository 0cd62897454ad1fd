package coalesce_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/coalesce"
	"pgregory.net/rapid"
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
		{"fn on a goroutine of the Flight's, inner Do", withCancel, true},
		{"fn on a goroutine of the Flight's, inner DoChan", withCancel, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var g coalesce.Flight[string, int]
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
// a goroutine of the Flight's; it ends with the test.
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
		var g coalesce.Flight[string, int]
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

// A cycle through executions that fn joined, rather than started, is found
// as well: a's fn joins b's execution, started by an outside caller, and
// b's fn then calls for a. The call that would close the ring fails with
// ErrCycle, both executions end, and later callers of either key run fn
// afresh.
func TestGroupCycleThroughJoinedExecutionFailsWithErrCycle(t *testing.T) {
	for _, direct := range []bool{true, false} {
		name := "a's fn joins b with DoChan"
		if direct {
			name = "a's fn joins b with Do"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var g coalesce.Flight[string, int]
				aIn, bIn := make(chan struct{}), make(chan struct{})
				var cycle error
				fnA := func(ctx context.Context) (int, error) {
					close(aIn)
					<-bIn
					if direct {
						return g.Do(ctx, "b", nil)
					}
					r := <-g.DoChan(ctx, "b", nil)
					return r.Value, r.Err
				}
				fnB := func(ctx context.Context) (int, error) {
					close(bIn)
					<-aIn
					synctest.Wait() // a's fn has joined b's execution
					_, cycle = g.Do(ctx, "a", nil)
					return 2, nil
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				a, b := g.DoChan(ctx, "a", fnA), g.DoChan(ctx, "b", fnB)
				ra, rb := <-a, <-b
				assert.ErrorIs(t, cycle, coalesce.ErrCycle)
				require.NoError(t, ra.Err)
				require.NoError(t, rb.Err)
				assert.Equal(t, 2, ra.Value)
				assert.Equal(t, 2, rb.Value)
				assert.NoError(t, ctx.Err(), "the executions waited for the deadline")

				assertNotPoisoned(t, &g, "a", "b")
			})
		})
	}
}

// A ring through three keys, each execution started by an outside caller
// and joined by the fn of the one before it, is broken by ErrCycle at the
// call that would close it, whichever key that is.
func TestGroupCycleThroughThreeJoinedExecutionsFailsWithErrCycle(t *testing.T) {
	keys := []string{"a", "b", "c"}
	for last := range keys {
		t.Run("closed by "+keys[last], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var g coalesce.Flight[string, int]
				start, closeRing := make(chan struct{}), make(chan struct{})
				errs := make([]error, len(keys))
				fn := func(i int) func(context.Context) (int, error) {
					return func(ctx context.Context) (int, error) {
						<-start
						if i == last {
							<-closeRing
						}
						v, err := g.Do(ctx, keys[(i+1)%len(keys)], nil)
						errs[i] = err
						return v + 1, err
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				var chans []<-chan coalesce.Result[int]
				for i, k := range keys {
					chans = append(chans, g.DoChan(ctx, k, fn(i)))
				}
				synctest.Wait() // every execution is an outside caller's
				close(start)
				synctest.Wait() // the others have joined along the ring
				close(closeRing)
				for i := range keys {
					r := <-chans[i]
					assert.ErrorIs(t, r.Err, coalesce.ErrCycle, keys[i])
				}
				for i := range keys {
					if i == last {
						assert.ErrorIs(t, errs[i], coalesce.ErrCycle, "the call closing the ring")
					}
				}
				assert.NoError(t, ctx.Err(), "the executions waited for the deadline")

				assertNotPoisoned(t, &g, keys...)
			})
		})
	}
}

// A call from fn that joins an execution which once waited on fn's, but no
// longer does, is not a cycle.
func TestGroupCallFromFnJoinsAnExecutionThatStoppedWaitingOnIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Flight[string, int]
		bWaiting, aDone := make(chan struct{}), make(chan struct{})
		fnB := func(ctx context.Context) (int, error) {
			short, cancel := context.WithTimeout(ctx, time.Millisecond)
			defer cancel()
			_, err := g.Do(short, "a", nil) // joins a, then gives up on it
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			close(bWaiting)
			<-aDone
			return 2, nil
		}
		fnA := func(ctx context.Context) (int, error) {
			<-bWaiting
			return g.Do(ctx, "b", nil) // b no longer waits on a
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		a := g.DoChan(ctx, "a", fnA)
		synctest.Wait()
		b := g.DoChan(ctx, "b", fnB)
		<-bWaiting
		synctest.Wait() // a's fn waits on b
		close(aDone)
		ra, rb := <-a, <-b
		require.NoError(t, ra.Err)
		require.NoError(t, rb.Err)
		assert.Equal(t, 2, ra.Value)
		assert.Equal(t, 2, rb.Value)
	})
}

// A call from fn for the key of the execution whose fn started fn's, made
// after that fn stopped waiting, joins it: the start alone is not a cycle.
func TestGroupCallFromFnJoinsTheExecutionThatStartedItOnceItLeft(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Flight[string, int]
		aLeft, release := make(chan struct{}), make(chan struct{})
		fnB := func(ctx context.Context) (int, error) {
			<-aLeft
			v, err := g.Do(ctx, "a", nil)
			return v * 10, err
		}
		fnA := func(ctx context.Context) (int, error) {
			short, cancel := context.WithTimeout(ctx, time.Millisecond)
			defer cancel()
			_, err := g.Do(short, "b", fnB) // starts b, then gives up on it
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			close(aLeft)
			<-release
			return 1, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		a := g.DoChan(ctx, "a", fnA)
		synctest.Wait()
		b := g.DoChan(ctx, "b", nil) // keeps b's execution going
		<-aLeft
		synctest.Wait() // b's fn waits on a
		close(release)
		ra, rb := <-a, <-b
		require.NoError(t, ra.Err)
		require.NoError(t, rb.Err)
		assert.Equal(t, 1, ra.Value)
		assert.Equal(t, 10, rb.Value)
	})
}

// assertNotPoisoned checks that each key's next caller runs its own fn at
// once.
func assertNotPoisoned(t *testing.T, g *coalesce.Flight[string, int], keys ...string) {
	t.Helper()
	for _, k := range keys {
		v, err := g.Do(context.Background(), k, func(context.Context) (int, error) { return 9, nil })
		assert.NoError(t, err, "key %s is poisoned", k)
		assert.Equal(t, 9, v, "key %s is poisoned", k)
	}
}

// For random keys whose fn each calls Do or DoChan, with its context, for
// another key or none, and outside callers arriving at random times with
// contexts that can or cannot be cancelled:
//   - a caller of a key whose chain of calls ends gets the value of the key
//     that ends it;
//   - a caller of a key whose chain of calls runs into a ring gets ErrCycle,
//     instead of every execution on the ring waiting forever;
//   - no goroutine is left behind (synctest.Test fails if one is), and the
//     next caller of every key runs its own fn.
func TestPropertyGroupCallsFromFnNeverWaitOnThemselves(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(rt, "keys")
		next := make([]int, n) // -1: fn returns its own key
		delay := make([]time.Duration, n)
		viaChan := make([]bool, n)
		for i := range n {
			next[i] = rapid.IntRange(-1, n-1).Draw(rt, "next")
			delay[i] = time.Duration(rapid.IntRange(0, 3).Draw(rt, "delay")) * time.Millisecond
			viaChan[i] = rapid.Bool().Draw(rt, "viaChan")
		}
		type caller struct {
			key         int
			arrive      time.Duration
			cancellable bool
			chanForm    bool
		}
		callers := make([]caller, rapid.IntRange(1, 6).Draw(rt, "callers"))
		for i := range callers {
			callers[i] = caller{
				key:         rapid.IntRange(0, n-1).Draw(rt, "key"),
				arrive:      time.Duration(rapid.IntRange(0, 3).Draw(rt, "arrive")) * time.Millisecond,
				cancellable: rapid.Bool().Draw(rt, "cancellable"),
				chanForm:    rapid.Bool().Draw(rt, "chanForm"),
			}
		}
		// end returns the key that ends key's chain of calls, or -1 if the
		// chain runs into a ring.
		end := func(key int) int {
			for range n {
				if next[key] < 0 {
					return key
				}
				key = next[key]
			}
			return -1
		}

		var failures []string
		synctest.Test(t, func(t *testing.T) {
			var g coalesce.Flight[int, int]
			var fn func(int) func(context.Context) (int, error)
			fn = func(key int) func(context.Context) (int, error) {
				return func(ctx context.Context) (int, error) {
					time.Sleep(delay[key])
					k := next[key]
					switch {
					case k < 0:
						return key, nil
					case viaChan[key]:
						r := <-g.DoChan(ctx, k, fn(k))
						return r.Value, r.Err
					default:
						return g.Do(ctx, k, fn(k))
					}
				}
			}
			results := make([]coalesce.Result[int], len(callers))
			var wg sync.WaitGroup
			for i, c := range callers {
				wg.Go(func() {
					time.Sleep(c.arrive)
					ctx := context.Background()
					if c.cancellable {
						var cancel context.CancelFunc
						ctx, cancel = context.WithCancel(ctx)
						defer cancel()
					}
					if c.chanForm {
						results[i] = <-g.DoChan(ctx, c.key, fn(c.key))
					} else {
						results[i] = g.DoResult(ctx, c.key, fn(c.key))
					}
				})
			}
			wg.Wait()
			for i, c := range callers {
				r := results[i]
				if e := end(c.key); e >= 0 && (r.Err != nil || r.Value != e) {
					failures = append(failures, fmt.Sprintf("caller %d of key %d got (%d, %v), want %d", i, c.key, r.Value, r.Err, e))
				} else if e < 0 && !errors.Is(r.Err, coalesce.ErrCycle) {
					failures = append(failures, fmt.Sprintf("caller %d of key %d got (%d, %v), want ErrCycle", i, c.key, r.Value, r.Err))
				}
			}
			for k := range n {
				v, err := g.Do(context.Background(), k, func(context.Context) (int, error) { return 100, nil })
				if v != 100 || err != nil {
					failures = append(failures, fmt.Sprintf("key %d is poisoned: (%d, %v)", k, v, err))
				}
			}
		})
		if len(failures) > 0 {
			rt.Fatal(strings.Join(failures, "\n"))
		}
	})
}
