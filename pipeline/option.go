package pipeline

import (
	"context"
	"fmt"
	"reflect"
)

// Option configures a source, a stage or a sink; the last of a kind wins.
// Sources and [Batch] panic given [Concurrency], [OnError] or [OnEvent].
type Option interface {
	apply(*config)
}

type config struct {
	workers int
	buffer  int // items; -1 means the default of one chunk
	chunk   int
	name    string
	onError any // func(context.Context, T, error) error for the stage's input T
	onEvent func(Event)
}

// defaultChunk is the most items in one hand-off unless Chunk says
// otherwise. A larger chunk saves channel operations under load; a smaller
// one bounds how many items one worker of the consumer claims at a time.
const defaultChunk = 64

// The largest sizes the options take. Above them a stage would start more
// goroutines, or allocate a channel larger, than any pipeline can use; the
// option panics instead of the sink failing later.
const (
	maxWorkers = 1 << 16
	maxItems   = 1 << 20 // Buffer and Chunk
)

// newConfig applies opts. A source or Batch (perItem false) has no per-item
// function, so Concurrency and OnError could never do anything there: they
// panic, naming the call.
func newConfig(opts []Option, call string, perItem bool) config {
	cfg := config{workers: 1, buffer: -1, chunk: defaultChunk}
	for _, o := range opts {
		if o == nil {
			panic("pipeline: nil Option")
		}
		if n, ok := o.(named); ok && !perItem && n.perItem {
			panic(fmt.Sprintf("pipeline: %s: option %s does not apply: it has no per-item function", call, n.name))
		}
		o.apply(&cfg)
	}
	return cfg
}

// named is an option that only stages with a per-item function take.
type named struct {
	name    string
	perItem bool
	f       func(*config)
}

func (o named) apply(c *config) { o.f(c) }

// defaultBuffer is how many items a stage may produce ahead of its consumer
// unless told otherwise: one full chunk at the default chunk size.
const defaultBuffer = defaultChunk

// channelCap is the capacity, in chunks, of a stage's output channel. Both
// sizes are at most maxItems, so the sum cannot overflow.
func (c config) channelCap() int {
	n := c.buffer
	if n < 0 {
		n = defaultBuffer
	}
	return (n + c.chunk - 1) / c.chunk
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Concurrency runs a stage's function on up to n goroutines (default 1),
// started only as items wait. It panics if n < 1 or n > 65536.
func Concurrency(n int) Option {
	// More workers pay off when the function is slow, not when it is cheap.
	if n < 1 {
		panic(fmt.Sprintf("pipeline: Concurrency(%d): need at least one worker", n))
	}
	if n > maxWorkers {
		panic(fmt.Sprintf("pipeline: Concurrency(%d): more than %d workers", n, maxWorkers))
	}
	return named{"Concurrency", true, func(c *config) { c.workers = n }}
}

// Buffer sets how many items a stage's output holds for its consumer (default
// 64), rounded up to a multiple of [Chunk]; the stage blocks while it is
// full, and with 0 every hand-off waits for the consumer. It panics if n < 0
// or n > 1<<20.
func Buffer(n int) Option {
	// An item waits in the buffer only while the next stage is busy or,
	// behind a cheap function, for a few of its calls (see handoff.go).
	if n < 0 {
		panic(fmt.Sprintf("pipeline: Buffer(%d): negative buffer", n))
	}
	if n > maxItems {
		panic(fmt.Sprintf("pipeline: Buffer(%d): more than %d items", n, maxItems))
	}
	return optionFunc(func(c *config) { c.buffer = n })
}

// Chunk sets the most items a stage hands on, and a worker of the next stage
// takes, at once (default 64); a stage holds at most its [Buffer] and, per
// worker, one input and one output chunk. It panics if n < 1 or n > 1<<20.
func Chunk(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("pipeline: Chunk(%d): need at least one item per chunk", n))
	}
	if n > maxItems {
		panic(fmt.Sprintf("pipeline: Chunk(%d): more than %d items", n, maxItems))
	}
	return optionFunc(func(c *config) { c.chunk = n })
}

// Name names a stage in errors and events; by default a stage is named after
// its kind and position, such as "map#2".
func Name(name string) Option {
	return optionFunc(func(c *config) { c.name = name })
}

// OnError makes a stage hand each item its function failed on, with the
// error, to handle, and go on. An error from handle, or
// a panic in the function, fails the pipeline. handle runs on the stage's
// workers; T must be the stage's input type, or building the stage panics.
func OnError[T any](handle func(ctx context.Context, item T, err error) error) Option {
	if handle == nil {
		panic("pipeline: OnError(nil)")
	}
	return named{"OnError", true, func(c *config) { c.onError = handle }}
}

// handler returns the stage's typed error handler, or nil.
func handler[T any](cfg config, stage string) func(context.Context, T, error) error {
	if cfg.onError == nil {
		return nil
	}
	h, ok := cfg.onError.(func(context.Context, T, error) error)
	if !ok {
		panic(fmt.Sprintf("pipeline: OnError handler %T does not match stage %q, whose items are %v", cfg.onError, stage, reflect.TypeFor[T]()))
	}
	return h
}
