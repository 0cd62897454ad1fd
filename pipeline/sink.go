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
		sc.fail(stageError(kind, err))
	} else if early {
		// The sink stopped before the end: stop the stages. Only then, so
		// that a stage that is recording its failure is not taken for an
		// echo of this cancellation.
		sc.stop(errFinished)
	}
	return sc.finish(func() bool { return err == nil && !early && s.drained(src) })
}

// Collect runs the pipeline and returns every item of s, in order. If the
// pipeline fails, or its context is done before every item has arrived,
// Collect returns the error and no items.
// Collect returns only after every stage goroutine has exited.
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

// Reduce runs the pipeline and folds its items into an accumulator: acc =
// f(acc, item) for every item in order, starting from init. f runs on the
// caller's goroutine. An error from f fails the pipeline, and so does a panic
// in f, returned as a *weft.PanicError inside a [*StageError]. On failure,
// Reduce returns the zero A and the error. Reduce returns only after every
// stage goroutine has exited.
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

// ForEach runs the pipeline and calls f for every item of s. With
// [Workers](n), n goroutines call f at once and items reach f in no set order;
// with one worker (the default) f sees the items in order. An error from f
// fails the pipeline unless an [OnError] handler takes it. ForEach returns
// the pipeline's error, and returns only after every stage goroutine has
// exited.
func ForEach[T any](s *Stream[T], f func(context.Context, T) error, opts ...Option) error {
	if f == nil {
		panic("pipeline: ForEach with a nil function")
	}
	done := stage(s, "foreach", opts, false, func(ctx context.Context, items []T, e *emitter[struct{}]) (int, error) {
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
	done.consume()
	return run(done, "foreach", false, func([]struct{}) (bool, error) { return true, nil })
}

// All runs the pipeline as the sequence of its items, for a range-over-func
// loop:
//
//	for v, err := range pipeline.All(s) {
//		if err != nil {
//			return err // the pipeline failed, or its context is done
//		}
//		use(v)
//	}
//
// Items come with a nil error, in order. If the pipeline fails, the last pair
// holds T's zero value and the error. Breaking out of the loop stops the
// pipeline; the loop statement completes only after every stage goroutine has
// exited, and no stage function runs after that. A panic in the loop body
// goes on up unchanged, once the pipeline has stopped the same way. The
// pipeline starts when the loop starts. The sequence can be ranged over
// once; a second range yields only an error.
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

// Chan runs the pipeline and returns a channel of its items, in order, for
// code that works with channels (package fanin and fanout, a select loop).
// The channel is closed after the last item, once every stage goroutine has
// exited; [Stream.Err] then tells whether the pipeline failed.
//
// The caller must receive until the channel is closed, or cancel the
// pipeline's context: a consumer that walks away from an open channel leaves
// the pipeline blocked.
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

// Err waits until the channel returned by [Stream.Chan] is closed and
// returns the pipeline's error: the first stage error, or
// [context.Cause] of the pipeline's context if it was cancelled before
// every item had arrived, or nil. It
// panics if Chan was not called.
func (s *Stream[T]) Err() error {
	if s.done == nil {
		panic("pipeline: Err called before Chan")
	}
	<-s.done
	return s.err
}
