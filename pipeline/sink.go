package pipeline

import (
	"context"
	"errors"
	"iter"

	"github.com/weftgo/weft/internal/catch"
)

// run starts the pipeline that ends in s and calls each on every chunk of its
// output on the caller's goroutine, until the output ends, the pipeline stops
// or each returns false. It then stops the pipeline if it is still running,
// waits for every stage goroutine to exit, and returns the pipeline's error.
// s must already be consumed.
//
// A panic in each is returned as a *weft.PanicError naming the sink, unless
// passPanics is set: All's loop body panics through its yield, and a range
// loop's panic must reach the loop unchanged. Either way, and when each calls
// runtime.Goexit, the pipeline is stopped and joined on the way out.
func run[T any](s *Stream[T], kind string, passPanics bool, each func(items []T) (bool, error)) error {
	sc := s.sc
	sc.begin()
	src := s.start()
	early := false
	loop := func() error {
		for {
			c, ok := s.next(src)
			if !ok {
				return nil
			}
			more, err := each(c.items)
			s.pool.put(c)
			if err != nil || !more {
				early = true
				return err
			}
		}
	}
	returned := false
	defer func() {
		if !returned {
			// A panic or runtime.Goexit is unwinding the caller's
			// goroutine: no stage may outlive it.
			sc.stop(errFinished)
			sc.finish(nil)
		}
	}()
	var err error
	if passPanics {
		err = loop()
	} else {
		err = catch.Call(loop)
	}
	returned = true
	if err != nil {
		sc.fail(kind, err)
	} else if early {
		// The sink stopped before the end: stop the stages. Only then, so
		// that a stage that is recording its failure is not taken for an
		// echo of this cancellation.
		sc.stop(errFinished)
	}
	return sc.finish(func() bool { return err == nil && !early && s.drained(src) })
}

// Collect runs the pipeline and returns its items in order, or no items and
// the pipeline's error.
func Collect[T any](s *Stream[T]) ([]T, error) {
	s.consume()
	var out []T
	err := run(s, "collect", false, func(items []T) (bool, error) {
		out = append(out, items...)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Reduce runs the pipeline and folds f over its items in order, from init, on
// the caller's goroutine. An error or panic in f fails the pipeline as a
// stage's would, and Reduce then returns the zero A.
func Reduce[T, A any](s *Stream[T], init A, f func(acc A, item T) (A, error)) (A, error) {
	if f == nil {
		panic("pipeline: Reduce with a nil function")
	}
	s.consume()
	acc := init
	err := run(s, "reduce", false, func(items []T) (bool, error) {
		for _, item := range items {
			var err error
			if acc, err = f(acc, item); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		var zero A
		return zero, err
	}
	return acc, nil
}

// ForEach runs the pipeline and calls f for every item; with Concurrency(n),
// n goroutines call it at once, in no set order. An error from f fails the
// pipeline unless [OnError] takes it.
func ForEach[T any](s *Stream[T], f func(context.Context, T) error, opts ...Option) error {
	if f == nil {
		panic("pipeline: ForEach with a nil function")
	}
	k := kernel[T, struct{}](func(ctx context.Context, items []T, e *emitter[struct{}]) (int, error) {
		for i, item := range items {
			if ctx.Err() != nil { // the pipeline stopped: no new call
				return i, errHalted
			}
			if err := f(ctx, item); err != nil {
				e.failed()
				return i, err
			}
		}
		return len(items), nil
	})
	if observing(opts) {
		k = observed(func(ctx context.Context, item T, _ *emitter[struct{}]) (int, error) {
			return 0, f(ctx, item)
		})
	}
	done := stage(s, "foreach", opts, false, k)
	done.consume()
	return run(done, "foreach", false, func([]struct{}) (bool, error) { return true, nil })
}

// All runs the pipeline as a sequence of its items, in order, with nil
// errors; a failure ends it with the zero T and the error. Breaking out of
// the loop, or a panic in its body, stops the pipeline. A second range
// yields only an error.
func All[T any](s *Stream[T]) iter.Seq2[T, error] {
	s.consume()
	started := false
	return func(yield func(T, error) bool) {
		if started {
			var zero T
			yield(zero, errors.New("pipeline: All ranged over twice"))
			return
		}
		started = true
		stopped := false
		err := run(s, "all", true, func(items []T) (bool, error) {
			for _, v := range items {
				if !yield(v, nil) {
					stopped = true
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil && !stopped {
			var zero T
			yield(zero, err)
		}
	}
}

// Chan runs the pipeline and returns a channel of its items, in order;
// [Stream.Err] returns the pipeline's error once it is closed. Receive until
// it closes or cancel the pipeline's context, or the pipeline stays blocked.
func (s *Stream[T]) Chan() <-chan T {
	s.consume()
	out := make(chan T)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		defer close(out)
		s.err = run(s, "chan", false, func(items []T) (bool, error) {
			for _, v := range items {
				select {
				case out <- v:
				case <-s.sc.ctx.Done():
					return false, nil
				}
			}
			return true, nil
		})
	}()
	return out
}

// Err waits for the channel of [Stream.Chan] to close and returns the
// pipeline's error; it panics if Chan was not called.
func (s *Stream[T]) Err() error {
	if s.done == nil {
		panic("pipeline: Err called before Chan")
	}
	<-s.done
	return s.err
}
