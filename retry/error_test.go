package retry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/weftgo/weft/retry"
)

func TestErrorMessage(t *testing.T) {
	errShutdown := errors.New("shutting down")
	tests := []struct {
		err  *retry.Error
		want string
	}{
		{&retry.Error{Cause: retry.ErrExhausted, Last: errTransient, Attempts: 3}, "retry: attempts exhausted after 3 attempts: transient"},
		{&retry.Error{Cause: retry.ErrNotRetryable, Last: errTransient, Attempts: 1}, "retry: not retryable after 1 attempt: transient"},
		{&retry.Error{Cause: retry.ErrMaxElapsed, Last: errTransient, Attempts: 4}, "retry: max elapsed time reached after 4 attempts: transient"},
		{&retry.Error{Cause: retry.ErrDeadline, Last: errTransient, Attempts: 2}, "retry: delay exceeds deadline after 2 attempts: transient"},
		{&retry.Error{Cause: retry.ErrBudget, Last: errTransient, Attempts: 1}, "retry: budget exhausted after 1 attempt: transient"},
		{&retry.Error{Cause: retry.ErrAbandoned, Attempts: 2}, "retry: loop abandoned after 2 attempts"},
		{&retry.Error{Cause: context.Canceled}, "retry: context canceled after 0 attempts"},
		{&retry.Error{Cause: errShutdown, Last: errTransient, Attempts: 2}, "retry: shutting down after 2 attempts: transient"},
		{&retry.Error{Last: errTransient, Attempts: 2}, "retry: gave up after 2 attempts: transient"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestSentinelMessages(t *testing.T) {
	for _, err := range []error{retry.ErrExhausted, retry.ErrNotRetryable, retry.ErrMaxElapsed, retry.ErrDeadline, retry.ErrBudget, retry.ErrAbandoned} {
		if msg := err.Error(); len(msg) < 8 || msg[:7] != "retry: " {
			t.Errorf("sentinel message %q does not start with \"retry: \"", msg)
		}
	}
}

// errors.Is finds the cause, the last error, and the context's own error
// even when the context was cancelled with a cause of its own.
func TestErrorIsSeesCauseLastAndContext(t *testing.T) {
	errShutdown := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	calls := 0
	err := retry.Run(ctx, instant, func(context.Context) error {
		calls++
		cancel(errShutdown)
		return errTransient
	})
	for _, target := range []error{errShutdown, context.Canceled, errTransient} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false, want true", err, target)
		}
	}
	if errors.Is(err, retry.ErrExhausted) {
		t.Errorf("errors.Is(%v, ErrExhausted) = true, want false", err)
	}
	if want := "retry: shutting down after 1 attempt: transient"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if calls != 1 {
		t.Errorf("f called %d times, want 1", calls)
	}
}

func TestUnwrapSkipsNil(t *testing.T) {
	e := &retry.Error{Cause: retry.ErrAbandoned}
	if got := e.Unwrap(); len(got) != 1 || got[0] != retry.ErrAbandoned {
		t.Errorf("Unwrap() = %v, want [ErrAbandoned]", got)
	}
	e = &retry.Error{Cause: retry.ErrExhausted, Last: errTransient}
	if got := e.Unwrap(); len(got) != 2 || got[0] != retry.ErrExhausted || got[1] != errTransient {
		t.Errorf("Unwrap() = %v, want [ErrExhausted transient]", got)
	}
}

// A success returns a nil error interface, never a typed nil *Error.
func TestSuccessReturnsUntypedNil(t *testing.T) {
	calls := 0
	err := retry.Run(context.Background(), instant, func(context.Context) error {
		calls++
		if calls < 2 {
			return errTransient
		}
		return nil
	})
	if err != nil {
		t.Errorf("Run = %#v, want nil", err)
	}
}
