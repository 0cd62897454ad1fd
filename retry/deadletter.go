package retry

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DeadLetter is where items go that a policy gave up on: a table, a queue,
// a file, a log line, for a person or a later job to deal with. [Process]
// hands it one [Letter] per failed item.
//
// DeadLetter is called on the goroutine that processed the item, with a
// context that carries the caller's values but is never cancelled, so that
// an item is not lost because its caller was shutting down; it should bound
// its own work. It returns an error if it could not keep the letter, and
// must be safe for concurrent use if it is shared.
type DeadLetter[T any] interface {
	DeadLetter(ctx context.Context, l Letter[T]) error
}

// Letter is an item a policy gave up on, and why.
type Letter[T any] struct {
	// Item is the item, as it was given to Process.
	Item T
	// Err is the [*Error] that ended the item's processing: its Cause says
	// why the policy gave up, its Last what the last attempt returned.
	Err error
	// Attempts is the number of attempts made; 0 if the caller's context
	// was done before the first.
	Attempts int
	// First is when processing started, Last when the policy gave up.
	First, Last time.Time
}

// DeadLetterFunc adapts a function to the [DeadLetter] interface.
type DeadLetterFunc[T any] func(ctx context.Context, l Letter[T]) error

// DeadLetter calls f(ctx, l).
func (f DeadLetterFunc[T]) DeadLetter(ctx context.Context, l Letter[T]) error {
	return f(ctx, l)
}

// Process runs f on item under p, as [Run] does, and hands the item to dl
// if p gives up. It returns nil if an attempt succeeded. Otherwise it
// returns the [*Error] saying why p gave up, whether or not dl kept the
// letter, so that callers can count failures either way; if dl failed, its
// error is joined to it with [errors.Join], so nothing is dropped silently.
//
// An item whose caller's context is done, before or between attempts, is
// dead-lettered too: it did not succeed, and would otherwise be lost. Its
// letter's Err has the context's cause as Cause. dl runs on the caller's
// goroutine with [context.WithoutCancel](ctx). Process starts no
// goroutines and does not recover panics in f or dl. It panics if dl is
// nil: use Run when there is nowhere to put failed items.
//
// Process reads the clock when it starts and when it gives up, for the
// letter's First and Last; otherwise it costs what Run costs.
func Process[T any](ctx context.Context, p Policy, item T, f func(context.Context, T) error, dl DeadLetter[T]) error {
	if f, ok := dl.(DeadLetterFunc[T]); dl == nil || ok && f == nil {
		panic("retry: Process: nil DeadLetter")
	}
	s := p.Start(time.Now())
	_, err := do(ctx, &s, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f(ctx, item)
	}, nil)
	if err == nil {
		return nil
	}
	l := Letter[T]{Item: item, Err: err, Attempts: s.Attempts(), First: s.First(), Last: s.Last()}
	if dlErr := dl.DeadLetter(context.WithoutCancel(ctx), l); dlErr != nil {
		return errors.Join(err, fmt.Errorf("retry: dead letter not kept: %w", dlErr))
	}
	return err
}
