package pool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pool"
)

// Values come back in submission order whatever order the tasks finish
// in, across many blocks of the store.
func TestResultPoolOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := pool.NewResultPool[int](context.Background(), 5)
		const n = 20_000
		for i := range n {
			err := r.Go(func(context.Context) (int, error) {
				time.Sleep(time.Duration((i*7919)%13) * time.Microsecond) // finish out of order
				return i, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("Wait returned %d values, want %d", len(got), n)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("value %d = %d, want %d", i, v, i)
			}
		}
	})
}

// A failed task keeps the value it returned, a panicked one the zero value,
// and the errors are joined in submission order.
func TestResultPoolErrorsAndPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := pool.NewResultPool[string](context.Background(), 3)
		e1, e3 := errors.New("one"), errors.New("three")
		gate := make(chan struct{})
		r.Go(func(context.Context) (string, error) { return "zero", nil })
		r.Go(func(context.Context) (string, error) { <-gate; return "partial", e1 }) // fails last
		r.Go(func(context.Context) (string, error) { panic("two") })
		r.Go(func(context.Context) (string, error) { return "", e3 })
		synctest.Wait()
		close(gate)
		got, err := r.Wait()
		if want := []string{"zero", "partial", "", ""}; !slices.Equal(got, want) {
			t.Fatalf("values = %q, want %q", got, want)
		}
		errs := err.(interface{ Unwrap() []error }).Unwrap()
		if len(errs) != 3 || errs[0] != e1 || !isPanic(errs[1], "two") || errs[2] != e3 {
			t.Fatalf("Wait errors = %v, want one, the panic, three in submission order", errs)
		}
		if s := r.Stats(); s.Failed != 2 || s.Panicked != 1 || s.Succeeded != 1 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

// A refused Go takes no place, whether it was the last place taken or one
// in the middle.
func TestResultPoolRefusedTasksTakeNoPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := pool.NewResultPool[int](context.Background(), 1, pool.Buffer(1))
		release := make(chan struct{})
		r.Go(func(context.Context) (int, error) { <-release; return 0, nil })
		r.Go(func(context.Context) (int, error) { return 1, nil }) // waits in the channel
		if err := r.TryGo(func(context.Context) (int, error) { return -1, nil }); !errors.Is(err, pool.ErrFull) {
			t.Fatalf("TryGo on a full pool = %v, want ErrFull", err)
		}
		// A GoContext that waits while a later Go takes the next place,
		// then gives up: its place is a hole in the middle.
		ctx, cancel := context.WithCancel(context.Background())
		refused := make(chan error, 1)
		go func() {
			refused <- r.GoContext(ctx, func(context.Context) (int, error) { return -2, nil })
		}()
		synctest.Wait()
		accepted := make(chan error, 1)
		go func() {
			accepted <- r.Go(func(context.Context) (int, error) { return 2, nil })
		}()
		synctest.Wait()
		cancel()
		if err := <-refused; !errors.Is(err, context.Canceled) {
			t.Fatalf("GoContext = %v, want context.Canceled", err)
		}
		close(release)
		if err := <-accepted; err != nil {
			t.Fatalf("Go = %v", err)
		}
		got, err := r.Wait()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want the GoContext's refusal", err)
		}
		if want := []int{0, 1, 2}; !slices.Equal(got, want) {
			t.Fatalf("values = %v, want %v", got, want)
		}
	})
}

// A Go call refused at the moment Wait ends takes no place: Wait returns
// exactly one value per accepted task, never a zero value for a refused
// one. Go may be called while Wait waits; the race is between a refusal and
// Wait collecting the values.
func TestResultPoolRefusedDuringWaitTakesNoPlace(t *testing.T) {
	one := func(context.Context) (int, error) { return 1, nil }
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 2000 {
		r := pool.NewResultPool[int](context.Background(), 1)
		accepted := 0
		if r.Go(one) == nil {
			accepted++
		}
		stop := make(chan int)
		go func() {
			n := 0
			if i%2 == 0 {
				for r.Go(one) == nil {
					n++
				}
			} else {
				// Refused at once, by a done context, while Wait runs.
				for r.GoContext(done, one) == nil {
				}
			}
			stop <- n
		}()
		vals, err := r.Wait()
		accepted += <-stop
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if len(vals) != accepted || slices.Contains(vals, 0) {
			t.Fatalf("run %d: %d tasks accepted, Wait returned %d values: %v", i, accepted, len(vals), vals)
		}
	}
}

func TestResultPoolFailFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := pool.NewResultPool[int](context.Background(), 1, pool.FailFast(true))
		r.Go(func(context.Context) (int, error) { return 7, errBoom })
		synctest.Wait()
		if err := r.Go(func(context.Context) (int, error) { return 8, nil }); err != errBoom {
			t.Fatalf("Go after the failure = %v, want errBoom", err)
		}
		got, err := r.Wait()
		if fmt.Sprint(err) != "boom\npool: 1 task refused: boom" || !slices.Equal(got, []int{7}) {
			t.Fatalf("Wait = %v, %v; want [7], and errBoom with the refused task", got, err)
		}
	})
}

// A task accepted before the context ended runs, and has its value.
func TestResultPoolAcceptedTasksRunAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r := pool.NewResultPool[int](ctx, 1)
		release := make(chan struct{})
		r.Go(func(context.Context) (int, error) { <-release; return 1, nil })
		r.Go(func(context.Context) (int, error) { return 2, nil })
		synctest.Wait()
		cancel()
		close(release)
		got, err := r.Wait()
		if err != nil || !slices.Equal(got, []int{1, 2}) {
			t.Fatalf("Wait = %v, %v; want [1 2] and no error", got, err)
		}
		if s := r.Stats(); s.Canceled != 0 || s.Succeeded != 2 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

func TestResultPoolWaitTwice(t *testing.T) {
	r := pool.NewResultPool[int](context.Background(), 2)
	r.Go(func(context.Context) (int, error) { return 1, nil })
	a, err1 := r.Wait()
	b, err2 := r.Wait()
	if err1 != nil || err2 != nil || !slices.Equal(a, []int{1}) || &a[0] != &b[0] {
		t.Fatalf("Wait twice = %v %v, %v %v; want the same slice", a, err1, b, err2)
	}
	if err := r.Go(func(context.Context) (int, error) { return 2, nil }); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("Go after Wait = %v", err)
	}
	if c, _ := r.Wait(); !slices.Equal(c, []int{1}) {
		t.Fatalf("Wait after a refused Go = %v", c)
	}
}

func TestResultPoolEmpty(t *testing.T) {
	r := pool.NewResultPool[int](context.Background(), 2)
	got, err := r.Wait()
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Wait = %#v, %v; want an empty, non-nil slice", got, err)
	}
}

func TestResultPoolRepanicAndGoexit(t *testing.T) {
	r := pool.NewResultPool[int](context.Background(), 1)
	r.Go(func(context.Context) (int, error) { runtime.Goexit(); return 1, nil })
	r.Go(func(context.Context) (int, error) { return 2, nil })
	got, err := r.Wait()
	if err != weft.ErrGoexit || !slices.Equal(got, []int{0, 2}) {
		t.Fatalf("Wait = %v, %v", got, err)
	}

	rp := pool.NewResultPool[int](context.Background(), 1, pool.Repanic(true))
	rp.Go(func(context.Context) (int, error) { panic(fmt.Errorf("wrapped: %w", errBoom)) })
	if msg := mustPanic(t, func() { rp.Wait() }); msg != "weft: panic: wrapped: boom" {
		t.Fatalf("Wait panicked with %q", msg)
	}
	noLeftover(t)
}

func TestResultPoolMisuse(t *testing.T) {
	r := pool.NewResultPool[int](context.Background(), 1)
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"nil Go", func() { r.Go(nil) }, "pool: ResultPool.Go(nil)"},
		{"nil GoContext", func() { r.GoContext(context.Background(), nil) }, "pool: ResultPool.GoContext(nil)"},
		{"nil TryGo", func() { r.TryGo(nil) }, "pool: ResultPool.TryGo(nil)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustPanic(t, tt.f); got != tt.want {
				t.Fatalf("panic %q, want %q", got, tt.want)
			}
		})
	}
	r.Wait()
}
