package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pipeline"
)

// hostileError is an error whose method named method panics, as a method
// with a nil dereference in it does.
type hostileError struct{ method string }

func (e *hostileError) Error() string { return "hostile " + e.method }

func (e *hostileError) Is(error) bool {
	if e.method == "Is" {
		panic("Is of a hostile error")
	}
	return false
}

func (e *hostileError) As(any) bool {
	if e.method == "As" {
		panic("As of a hostile error")
	}
	return false
}

func (e *hostileError) Unwrap() error {
	if e.method == "Unwrap" {
		panic("Unwrap of a hostile error")
	}
	return nil
}

var hostileMethods = []string{"Is", "As", "Unwrap"}

// carries reports whether err, as a sink returned it, holds orig: as the
// stage's error or as the value of a *weft.PanicError next to the panic its
// methods caused. It looks only at weft's own types, never calling orig's
// methods.
func carries(err error, orig *hostileError) bool {
	se, ok := err.(*pipeline.StageError)
	if !ok {
		return false
	}
	errs := []error{se.Err}
	if j, ok := se.Err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		if h, ok := e.(*hostileError); ok && h == orig {
			return true
		}
		if pe, ok := e.(*weft.PanicError); ok && pe.Value == any(orig) {
			return true
		}
	}
	return false
}

// within runs f and fails the test if it has not returned in a generous
// bound: the defect it guards against is a sink blocked for good.
func within(t interface {
	Helper()
	Fatal(...any)
}, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the sink never returned")
	}
}

// An error value whose Is, As or Unwrap panics, reaching weft from any path
// (a stage's error, a source's, a panic's value, an error handler, Reduce's
// function, a pipeline read through Chan), neither hangs the pipeline nor
// crashes the process: the sink returns the error with a *weft.PanicError for
// the method's panic next to it, and every goroutine is joined.
func TestErrorWithPanickingMethodsIsReportedNotFatal(t *testing.T) {
	paths := []struct {
		name string
		run  func(ctx context.Context, e *hostileError) error
	}{
		{"stage error", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, ints(3)), func(context.Context, int) (int, error) { return 0, e }))
			return err
		}},
		{"stage error, 2 workers", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, ints(100)), func(context.Context, int) (int, error) { return 0, e }, pipeline.Concurrency(2)))
			return err
		}},
		{"MapUnordered error", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.MapUnordered(pipeline.FromSlice(ctx, ints(100)), func(context.Context, int) (int, error) { return 0, e }, pipeline.Concurrency(2)))
			return err
		}},
		{"Filter error", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.Filter(pipeline.FromSlice(ctx, ints(3)), func(context.Context, int) (bool, error) { return false, e }))
			return err
		}},
		{"FlatMap error", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.FlatMap(pipeline.FromSlice(ctx, ints(3)), func(context.Context, int, func(int) error) error { return e }))
			return err
		}},
		{"ForEach error", func(ctx context.Context, e *hostileError) error {
			return pipeline.ForEach(pipeline.FromSlice(ctx, ints(3)), func(context.Context, int) error { return e })
		}},
		{"ForEach error, 2 workers", func(ctx context.Context, e *hostileError) error {
			return pipeline.ForEach(pipeline.FromSlice(ctx, ints(100)), func(context.Context, int) error { return e }, pipeline.Concurrency(2))
		}},
		{"source error", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.Generate(ctx, func(context.Context, func(int) error) error { return e }))
			return err
		}},
		{"panic value in a source", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.From(ctx, func(func(int) bool) { panic(e) }))
			return err
		}},
		{"panic value in a stage", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, ints(3)), func(context.Context, int) (int, error) { panic(e) }))
			return err
		}},
		{"panic value in Tap", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.Tap(pipeline.FromSlice(ctx, ints(3)), func(context.Context, int) { panic(e) }))
			return err
		}},
		{"OnError", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, ints(3)),
				func(context.Context, int) (int, error) { return 0, errors.New("bad item") },
				pipeline.OnError(func(context.Context, int, error) error { return e })))
			return err
		}},
		{"Reduce", func(ctx context.Context, e *hostileError) error {
			_, err := pipeline.Reduce(pipeline.Map(pipeline.FromSlice(ctx, ints(100)), inc, pipeline.Concurrency(2)), 0,
				func(int, int) (int, error) { return 0, e })
			return err
		}},
		{"Chan", func(ctx context.Context, e *hostileError) error {
			s := pipeline.Map(pipeline.FromSlice(ctx, ints(3)), func(context.Context, int) (int, error) { return 0, e })
			for range s.Chan() {
			}
			return s.Err()
		}},
	}
	for _, method := range hostileMethods {
		for _, p := range paths {
			t.Run(method+"/"+p.name, func(t *testing.T) {
				e := &hostileError{method: method}
				var err error
				within(t, func() { err = p.run(context.Background(), e) })
				require.Error(t, err)
				var pe *weft.PanicError
				assert.True(t, errors.As(err, &pe), "no *weft.PanicError reports the panic in %s", method)
				assert.True(t, carries(err, e), "the original error is lost: %#v", err)
				noLeftover(t)
			})
		}
	}
}
