package retry

import (
	"context"
	"fmt"
	"time"
)

// DeadLetter keeps the items a policy gave up on, one [Letter] each, for a
// person or a later job. Its context is never cancelled, so it should bound
// its own work; it returns an error if it could not keep the letter.
type DeadLetter[T any] interface {
	DeadLetter(ctx context.Context, l Letter[T]) error
}

// Letter is an item a policy gave up on, and why.
type Letter[T any] struct {
	Item        T         // as given to Process
	Err         error     // the [*Error] that ended its processing
	Attempts    int       // 0 if ctx was done before the first
	First, Last time.Time // when processing started and when it ended
}

// DeadLetterFunc adapts a function to the [DeadLetter] interface.
type DeadLetterFunc[T any] func(ctx context.Context, l Letter[T]) error

// DeadLetter calls f(ctx, l).
func (f DeadLetterFunc[T]) DeadLetter(ctx context.Context, l Letter[T]) error {
	return f(ctx, l)
}

// Process runs f on item under p, as [Run] does, and hands the item to dl if
// p gives up, including when ctx is done before or between attempts. It
// returns nil on success, else the [*Error], with dl's error wrapped beside it
// if dl failed. dl gets [context.WithoutCancel](ctx). It panics if dl is nil.
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
		// Both are wrapped, so errors.Is and errors.As find either; "; " keeps
		// the message on one line, as errors.Join would not.
		return fmt.Errorf("%w; retry: dead letter not kept: %w", err, dlErr)
	}
	return err
}
