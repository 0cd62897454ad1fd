package pipeline

import (
	"context"
	"errors"
	"iter"
)

// From returns a stream of the values of seq, ranged over on a pipeline
// goroutine; a panic in seq fails the pipeline.
func From[T any](ctx context.Context, seq iter.Seq[T], opts ...Option) *Stream[T] {
	if seq == nil {
		panic("pipeline: From with a nil sequence")
	}
	return generate(ctx, "from", "From", opts, func(ctx context.Context, emit func(T) error) error {
		for v := range seq {
			if emit(v) != nil {
				break
			}
		}
		return nil
	})
}

// FromSlice returns a stream of the elements of s, in order. Do not modify s
// until the sink has returned.
func FromSlice[T any](ctx context.Context, s []T, opts ...Option) *Stream[T] {
	sc := newScope(ctx)
	cfg := newConfig(opts, "FromSlice", false)
	return newStream(sc, "from", cfg, func(out *Stream[T]) func() <-chan *chunk[T] {
		return func() <-chan *chunk[T] {
			ch := make(chan *chunk[T], cfg.channelCap())
			sc.goStage(out.name, func() error {
				e := newEmitter(sc, out, ch)
				for _, v := range s {
					if sc.stopped() || !e.put(v) {
						return nil
					}
				}
				out.complete.Store(e.flush())
				return nil
			}, func() { close(ch) })
			return ch
		}
	})
}

// FromChan returns a stream of the values received from ch until it is closed.
// Values left when the pipeline stops stay in ch.
func FromChan[T any](ctx context.Context, ch <-chan T, opts ...Option) *Stream[T] {
	if ch == nil {
		panic("pipeline: FromChan with a nil channel")
	}
	sc := newScope(ctx)
	cfg := newConfig(opts, "FromChan", false)
	return newStream(sc, "from", cfg, func(out *Stream[T]) func() <-chan *chunk[T] {
		return func() <-chan *chunk[T] {
			outCh := make(chan *chunk[T], cfg.channelCap())
			sc.goStage(out.name, func() error {
				e := newEmitter(sc, out, outCh)
				for {
					if len(ch) == 0 && !e.flush() {
						return nil // nothing more is ready: hand on what we have
					}
					select {
					case v, ok := <-ch:
						if !ok {
							out.complete.Store(e.flush())
							return nil
						}
						if !e.put(v) {
							return nil
						}
					case <-sc.ctx.Done():
						return nil
					}
				}
			}, func() { close(outCh) })
			return outCh
		}
	})
}

// Generate returns a stream of the values gen emits on a pipeline goroutine;
// an error from gen fails the pipeline, and gen must return when ctx is
// done.
func Generate[T any](ctx context.Context, gen func(ctx context.Context, emit func(T) error) error, opts ...Option) *Stream[T] {
	if gen == nil {
		panic("pipeline: Generate with a nil function")
	}
	return generate(ctx, "generate", "Generate", opts, gen)
}

// errEmitAfterReturn is what emit returns when the function it was given to
// has returned: the item would have nowhere to go.
var errEmitAfterReturn = errors.New("pipeline: emit called after its function returned")

// generate is the source behind From and Generate: user code produces the
// values and may block between them, so the source cannot flush when it is
// about to block, as stages do. Instead the consumer, once it has taken
// everything queued, takes the partly filled chunk itself (steal) rather than
// wait for user code to produce the value that would fill it; and while the
// consumer waits (hungry), the source hands on each value at once. Its
// emitter is locked for good, so that the chunk being filled can be taken.
func generate[T any](ctx context.Context, kind, call string, opts []Option, gen func(ctx context.Context, emit func(T) error) error) *Stream[T] {
	sc := newScope(ctx)
	cfg := newConfig(opts, call, false)
	return newStream(sc, kind, cfg, func(out *Stream[T]) func() <-chan *chunk[T] {
		return func() <-chan *chunk[T] {
			ch := make(chan *chunk[T], cfg.channelCap())
			e := newEmitter(sc, out, ch)
			e.setLocked(true) // for good: user code may block between values
			out.steal = e.steal
			returned := false // gen has returned; guarded by e.mu
			refused := false  // emit refused a value; guarded by e.mu
			sc.goStage(out.name, func() error {
				err := gen(sc.ctx, func(v T) error {
					e.mu.Lock()
					if returned {
						e.mu.Unlock()
						return errEmitAfterReturn
					}
					ok := !sc.stopped() && e.add(v)
					refused = refused || !ok
					e.mu.Unlock()
					if ok && out.hungry.Load() {
						// The consumer may have gone hungry while we held
						// the lock, and failed to steal: hand on now.
						e.mu.Lock()
						if !returned && e.cur != nil && len(e.cur.items) > 0 && len(ch) == 0 {
							ok = e.full()
							refused = refused || !ok
						}
						e.mu.Unlock()
					}
					if !ok {
						return sc.cause()
					}
					return nil
				})
				e.mu.Lock()
				returned = true
				e.mu.Unlock()
				if err != nil || refused {
					return err
				}
				out.complete.Store(e.flush())
				return nil
			}, func() { close(ch) })
			return ch
		}
	})
}
