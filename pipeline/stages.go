package pipeline

import "context"

// Map returns a stream of f applied to every item of s, in the order of s at
// any [Concurrency]. An error from f fails the pipeline unless [OnError]
// takes it.
func Map[T, R any](s *Stream[T], f func(context.Context, T) (R, error), opts ...Option) *Stream[R] {
	return stage(s, "map", opts, true, mapKernel(f, observing(opts)))
}

// MapUnordered is [Map] that hands on each result as soon as it is ready;
// with one worker the order is kept.
func MapUnordered[T, R any](s *Stream[T], f func(context.Context, T) (R, error), opts ...Option) *Stream[R] {
	return stage(s, "map", opts, false, mapKernel(f, observing(opts)))
}

// mapKernel returns Map's kernel; with observe, the one that reports events.
func mapKernel[T, R any](f func(context.Context, T) (R, error), observe bool) kernel[T, R] {
	if f == nil {
		panic("pipeline: Map with a nil function")
	}
	if observe {
		return observed(func(ctx context.Context, item T, e *emitter[R]) (int, error) {
			r, err := f(ctx, item)
			if err != nil {
				return 0, err
			}
			if !e.put(r) {
				return 0, errHalted
			}
			return 1, nil
		})
	}
	return func(ctx context.Context, items []T, e *emitter[R]) (int, error) {
		for i, item := range items {
			if ctx.Err() != nil { // the pipeline stopped: no new call
				return i, errHalted
			}
			r, err := f(ctx, item)
			if err != nil {
				e.failed()
				return i, err
			}
			// put, inlined by hand for its common case.
			if e.plain && e.cur != nil && e.room() {
				e.cur.items = append(e.cur.items, r)
			} else if !e.putSlow(r) {
				return i + 1, errHalted
			}
		}
		return len(items), nil
	}
}

// Filter returns a stream of the items of s, in order, for which keep returns
// true.
func Filter[T any](s *Stream[T], keep func(context.Context, T) (bool, error), opts ...Option) *Stream[T] {
	if keep == nil {
		panic("pipeline: Filter with a nil function")
	}
	if observing(opts) {
		return stage(s, "filter", opts, true, observed(func(ctx context.Context, item T, e *emitter[T]) (int, error) {
			ok, err := keep(ctx, item)
			switch {
			case err != nil:
				return 0, err
			case !ok:
				return 0, nil
			case !e.put(item):
				return 0, errHalted
			}
			return 1, nil
		}))
	}
	return stage(s, "filter", opts, true, func(ctx context.Context, items []T, e *emitter[T]) (int, error) {
		for i, item := range items {
			if ctx.Err() != nil { // the pipeline stopped: no new call
				return i, errHalted
			}
			ok, err := keep(ctx, item)
			if err != nil {
				e.failed()
				return i, err
			}
			if !ok {
				continue
			}
			// put, inlined by hand for its common case.
			if e.plain && e.cur != nil && e.room() {
				e.cur.items = append(e.cur.items, item)
			} else if !e.putSlow(item) {
				return i + 1, errHalted
			}
		}
		return len(items), nil
	})
}

// FlatMap returns a stream of the items f emits for each item of s, in input
// order at any [Concurrency].
func FlatMap[T, R any](s *Stream[T], f func(ctx context.Context, item T, emit func(R) error) error, opts ...Option) *Stream[R] {
	// With several workers, what f emits for a share of input waits for its
	// turn.
	if f == nil {
		panic("pipeline: FlatMap with a nil function")
	}
	if observing(opts) {
		return stage(s, "flatmap", opts, true, observed(func(ctx context.Context, item T, e *emitter[R]) (int, error) {
			emit := e.emit()
			before := e.ob.emitted
			err := e.call(func() error { return f(ctx, item, emit) })
			return e.ob.emitted - before, err
		}))
	}
	return stage(s, "flatmap", opts, true, func(ctx context.Context, items []T, e *emitter[R]) (int, error) {
		emit := e.emit()
		for i, item := range items {
			if ctx.Err() != nil { // the pipeline stopped: no new call
				return i, errHalted
			}
			if err := e.call(func() error { return f(ctx, item, emit) }); err != nil {
				e.failed()
				return i, err
			}
		}
		return len(items), nil
	})
}

// Tap calls f for every item of s and passes it on unchanged, in order; f must not modify items that later stages share.
func Tap[T any](s *Stream[T], f func(context.Context, T), opts ...Option) *Stream[T] {
	if f == nil {
		panic("pipeline: Tap with a nil function")
	}
	if observing(opts) {
		return stage(s, "tap", opts, true, observed(func(ctx context.Context, item T, e *emitter[T]) (int, error) {
			f(ctx, item)
			if !e.put(item) {
				return 0, errHalted
			}
			return 1, nil
		}))
	}
	return stage(s, "tap", opts, true, func(ctx context.Context, items []T, e *emitter[T]) (int, error) {
		for i, item := range items {
			if ctx.Err() != nil { // the pipeline stopped: no new call
				return i, errHalted
			}
			f(ctx, item)
			if !e.put(item) {
				return i + 1, errHalted
			}
		}
		return len(items), nil
	})
}
