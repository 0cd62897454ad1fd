package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
)

// Stream is the typed output of a source or a stage, consumed once by one stage
// or sink (a second one panics). Build a pipeline on one goroutine.
type Stream[T any] struct {
	sc    *scope
	name  string
	chunk int // the most items in one hand-off
	buf   int // capacity of the output channel, in hand-offs
	used  bool

	// start starts this stream's stage and everything upstream of it, and
	// returns the channel the stage writes to. It is called once, by the
	// consumer, with the scope's context in place.
	start func() <-chan *chunk[T]
	// pool recycles the chunks sent on the channel: the consumer puts back
	// what it has finished with, the producer gets from it.
	pool *chunkPool[T]
	// steal, when set, takes the items the producer is holding back in a
	// chunk that is not full yet. The consumer calls it before it would wait
	// on an empty channel, so items never sit in a producer that is busy in
	// user code. It is set by start.
	steal func() *chunk[T]
	// hungry is raised while the consumer waits on an empty channel, so that
	// the producer hands on what it has at once.
	hungry atomic.Bool
	// stamp asks the producer to record when each chunk's first item was
	// produced: Batch measures maxWait from then.
	stamp bool
	// complete is set by the producer once it has handed on the whole of
	// its output: it reached the end of its input, which was complete too,
	// and stopped for nothing. It is set before the channel is closed.
	complete atomic.Bool

	// Set by Chan for Err.
	done chan struct{}
	err  error
}

// next returns the next chunk of s's output for its consumer, and false
// once the output is closed or the pipeline stopped.
func (s *Stream[T]) next(src <-chan *chunk[T]) (*chunk[T], bool) {
	if len(src) > 0 {
		return recv(s.sc, src)
	}
	if s.steal != nil {
		if c := s.steal(); c != nil {
			return c, true
		}
	}
	// Nothing to take yet. Rather than sleep at once and have the producer
	// wake us for every value, let the producer run a little and look
	// again: a producer that is merely slower than us then hands over a
	// chunk, not a value, per wake-up.
	runtime.Gosched()
	if len(src) > 0 {
		return recv(s.sc, src)
	}
	// About to wait: from now on the producer hands on each item at once.
	s.hungry.Store(true)
	if s.steal != nil {
		if c := s.steal(); c != nil {
			s.hungry.Store(false)
			return c, true
		}
	}
	c, ok := recv(s.sc, src)
	s.hungry.Store(false)
	return c, ok
}

// drained reports whether the consumer of src, the channel s's producer
// writes to, has received all of s's output: the producer completed and
// nothing is left in the channel.
func (s *Stream[T]) drained(src <-chan *chunk[T]) bool {
	return s.complete.Load() && len(src) == 0
}

// scope is what every stage of one pipeline shares: the context that the first
// failure cancels, the first error, and the goroutines to join.
type scope struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	stages int // stages built so far, for default names

	mu  sync.Mutex
	err error // the first stage error
}

func newScope(ctx context.Context) *scope {
	if ctx == nil {
		panic("pipeline: nil context")
	}
	return &scope{parent: ctx}
}

// begin derives the pipeline's context. It runs when a sink starts the
// pipeline, so that a pipeline that is never run registers nothing with the
// caller's context.
func (sc *scope) begin() {
	sc.ctx, sc.cancel = context.WithCancelCause(sc.parent)
}

// stop cancels the pipeline with cause.
func (sc *scope) stop(cause error) {
	sc.cancel(cause)
}

// errStopping is the cause of the pipeline's context once a stage function
// has failed: the failing worker cancels at once, so that the others stop
// before its error is wrapped and recorded (see emitter.failed). The sink
// returns the error itself; errStopping is never recorded.
var errStopping = errors.New("pipeline: stopping after a stage failed")

// fail records err, from the stage named name, as the pipeline's error if
// it is the first, and cancels every stage. Errors that arrive after the
// pipeline was cancelled are the echo of that cancellation and are dropped.
// It never panics: see inspect.
func (sc *scope) fail(name string, err error) {
	echo, panicked, err := inspect(name, err)
	sc.mu.Lock()
	// A panic is a bug, not an echo of the cancellation: it is kept even
	// after the pipeline was cancelled, unless an error came first.
	cause := context.Cause(sc.ctx)
	first := (cause == nil || cause == errStopping) && !echo
	if sc.err == nil && (first || panicked) {
		sc.err = err
	}
	sc.mu.Unlock()
	sc.stop(err)
}

// inspect wraps err, from the stage named name, in a *StageError unless it
// holds one already, and reports whether it is the echo of a stage's failure
// (it holds errStopping) and whether it holds a *weft.PanicError. Looking
// into err calls the methods of a user's error values (Is, As, Unwrap), which
// may panic: inspect runs them through catch, on no lock of ours, and a panic
// there is reported next to err, which then counts as a panic itself: the
// StageError's Err joins err after that *weft.PanicError.
func inspect(name string, err error) (echo, panicked bool, _ error) {
	wrapped := false
	bad := catch.Call(func() error {
		echo = errors.Is(err, errStopping)
		var pe *weft.PanicError
		panicked = errors.As(err, &pe)
		var se *StageError
		wrapped = errors.As(err, &se)
		return nil
	})
	if bad != nil {
		err = errors.Join(bad, err) // bad first: errors.As finds it without calling err's methods
		echo, panicked, wrapped = false, true, false
	}
	if !wrapped {
		err = &StageError{Stage: name, Err: err}
	}
	return echo, panicked, err
}

// stopped reports whether the pipeline has been cancelled, by a failure or by
// the caller. It is the check made before every call of a stage's function:
// one atomic load, as a cancelCtx's Err is. A cancellation of the caller's
// context reaches the pipeline's synchronously, so once cancel returns no
// stage function starts a new call.
func (sc *scope) stopped() bool {
	return sc.ctx.Err() != nil
}

// cause returns why the pipeline stopped, for an emit that refuses an
// item: never nil, since the context is cancelled the moment anything
// decides to stop the pipeline.
func (sc *scope) cause() error {
	<-sc.ctx.Done()
	return context.Cause(sc.ctx)
}

// goStage runs loop on a goroutine the scope joins. A panic or error in loop
// fails the pipeline with the stage's name.
func (sc *scope) goStage(name string, loop func() error, exit func()) {
	sc.wg.Add(1)
	go catch.Guard(loop, func(err error) {
		if err != nil {
			sc.fail(name, err)
		}
		exit()
		sc.wg.Done()
	})
}

// finish waits for every stage goroutine, releases the context and returns
// the pipeline's outcome: the first stage error; else nil if complete
// reports that the sink received every item; else the cause of the caller's
// cancellation, else nil. complete runs after every stage has exited; nil
// means the sink did not get everything.
func (sc *scope) finish(complete func() bool) error {
	sc.wg.Wait()
	sc.stop(errFinished)
	sc.mu.Lock()
	err := sc.err
	sc.mu.Unlock()
	if err != nil {
		return err
	}
	// Every item arrived: a cancellation that came too late to cut the
	// pipeline short is no failure of it.
	if complete != nil && complete() {
		return nil
	}
	if sc.parent.Err() != nil {
		return context.Cause(sc.parent)
	}
	return nil
}

var errFinished = errors.New("pipeline: finished")

// StageError is the error a sink returns when a stage fails.
type StageError struct {
	// Stage is the stage's name (see [Name]) or the sink's kind, such as
	// "reduce".
	Stage string
	// Err is the function's error or a [*weft.PanicError].
	Err error
}

// Error returns `pipeline: stage "NAME": ` and the cause.
func (e *StageError) Error() string {
	return fmt.Sprintf("pipeline: stage %q: %v", e.Stage, e.Err)
}

// Unwrap returns Err.
func (e *StageError) Unwrap() error { return e.Err }

// consume marks s as consumed, panicking if it already was: two consumers of
// one stream would each see part of it.
func (s *Stream[T]) consume() {
	if s == nil {
		panic("pipeline: nil Stream")
	}
	if s.used {
		panic(fmt.Sprintf("pipeline: stream of stage %q consumed twice", s.name))
	}
	s.used = true
}

// newStream returns the output stream of a new stage of sc.
func newStream[T any](sc *scope, kind string, cfg config, start func(out *Stream[T]) func() <-chan *chunk[T]) *Stream[T] {
	sc.stages++
	out := &Stream[T]{sc: sc, chunk: cfg.chunk, buf: cfg.buffer, pool: new(chunkPool[T])}
	out.name = cfg.name
	if out.name == "" {
		out.name = fmt.Sprintf("%s#%d", kind, sc.stages)
	}
	out.start = start(out)
	return out
}

// chunk is the unit of hand-off between stages: a batch of items moved with
// one channel operation. Moving items in chunks when the producer is ahead
// is what makes a pipeline cheaper per item than channel plumbing that moves
// one item per operation.
type chunk[T any] struct {
	items []T
	// born is when the first item was produced, if the consumer asked
	// for it (Stream.stamp).
	born time.Time
	// claims counts the workers' claims on the chunk not yet processed, plus
	// one while it is being handed out.
	claims atomic.Int32
}

// chunkPool recycles the chunks of one edge of the pipeline.
type chunkPool[T any] struct {
	p sync.Pool
}

func (p *chunkPool[T]) get(size int) *chunk[T] {
	if c, ok := p.p.Get().(*chunk[T]); ok {
		return c
	}
	// A chunk grows to its size only when a producer is that far ahead, so
	// a large Chunk costs memory only under load.
	return &chunk[T]{items: make([]T, 0, min(size, defaultChunk))}
}

func (p *chunkPool[T]) put(c *chunk[T]) {
	clear(c.items) // drop references so the pool does not keep items alive
	c.items = c.items[:0]
	p.p.Put(c)
}

// recv takes the next chunk from in. It returns false when in is closed or
// the pipeline stops.
func recv[T any](sc *scope, in <-chan *chunk[T]) (*chunk[T], bool) {
	select {
	case c, ok := <-in:
		return c, ok
	default:
	}
	select {
	case c, ok := <-in:
		return c, ok
	case <-sc.ctx.Done():
		return nil, false
	}
}
