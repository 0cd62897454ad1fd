package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/retry"
)

// mailbox is a sink that keeps its letters.
type mailbox[T any] struct {
	letters []retry.Letter[T]
	ctxErr  []error
	err     error
}

func (m *mailbox[T]) DeadLetter(ctx context.Context, l retry.Letter[T]) error {
	m.letters = append(m.letters, l)
	m.ctxErr = append(m.ctxErr, ctx.Err())
	return m.err
}

func TestProcessSuccessSendsNoLetter(t *testing.T) {
	var box mailbox[int]
	calls := 0
	err := retry.Process(context.Background(), instant, 7, func(ctx context.Context, item int) error {
		calls++
		if item != 7 {
			t.Errorf("item = %d, want 7", item)
		}
		if calls < 2 {
			return errTransient
		}
		return nil
	}, &box)
	if err != nil || len(box.letters) != 0 || calls != 2 {
		t.Errorf("Process = %v after %d calls with %d letters, want nil after 2 calls, no letter", err, calls, len(box.letters))
	}
}

func TestProcessDeadLettersWhatFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var box mailbox[string]
		p := retry.New(retry.Attempts(3), retry.Constant(time.Second), retry.NoJitter())
		start := time.Now()
		err := retry.Process(t.Context(), p, "job-1", func(ctx context.Context, item string) error {
			time.Sleep(500 * time.Millisecond)
			return errTransient
		}, &box)
		var re *retry.Error
		if !errors.As(err, &re) || re.Cause != retry.ErrExhausted || re.Elapsed != 3500*time.Millisecond {
			t.Fatalf("Process = %v, want ErrExhausted after 3.5s", err)
		}
		if len(box.letters) != 1 {
			t.Fatalf("%d letters, want 1", len(box.letters))
		}
		l := box.letters[0]
		if l.Item != "job-1" || l.Err != err || l.Attempts != 3 || !l.First.Equal(start) || l.Last.Sub(start) != 3500*time.Millisecond {
			t.Errorf("letter = %+v, want job-1, the error, 3 attempts, from the start to 3.5s", l)
		}
	})
}

// A sink that fails does not hide the item's failure, nor its own.
func TestProcessSinkFailure(t *testing.T) {
	errFull := errors.New("queue full")
	box := mailbox[int]{err: errFull}
	err := retry.Process(context.Background(), instant, 1, func(context.Context, int) error { return errTransient }, &box)
	var re *retry.Error
	if !errors.Is(err, errFull) || !errors.Is(err, retry.ErrExhausted) || !errors.Is(err, errTransient) || !errors.As(err, &re) {
		t.Errorf("Process = %v, want both the sink's error and the *Error", err)
	}
}

// A sink's failure is reported on the same line as the item's: an error
// message holds no newline, so a log line stays one line.
func TestProcessSinkFailureMessageIsOneLine(t *testing.T) {
	box := mailbox[int]{err: errors.New("queue full")}
	err := retry.Process(context.Background(), instant, 1, func(context.Context, int) error { return errTransient }, &box)
	if want := "retry: attempts exhausted after 3 attempts: transient; retry: dead letter not kept: queue full"; err.Error() != want {
		t.Errorf("Process = %q, want %q", err, want)
	}
}

// An item whose caller gave up is dead-lettered too, with a context that is
// not cancelled but still carries the caller's values.
func TestProcessDeadLettersOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type key struct{}
		ctx, cancel := context.WithCancel(context.WithValue(t.Context(), key{}, "v"))
		time.AfterFunc(1500*time.Millisecond, cancel)
		var box mailbox[int]
		var sinkValue any
		sink := retry.DeadLetterFunc[int](func(ctx context.Context, l retry.Letter[int]) error {
			sinkValue = ctx.Value(key{})
			return box.DeadLetter(ctx, l)
		})
		p := retry.New(retry.Attempts(retry.Unlimited), retry.Constant(time.Second), retry.NoJitter())
		err := retry.Process(ctx, p, 9, func(context.Context, int) error { return errTransient }, sink)
		if !errors.Is(err, context.Canceled) || len(box.letters) != 1 {
			t.Fatalf("Process = %v with %d letters, want context.Canceled with 1", err, len(box.letters))
		}
		l := box.letters[0]
		if l.Item != 9 || l.Attempts != 2 || !errors.Is(l.Err, context.Canceled) || !errors.Is(l.Err, errTransient) {
			t.Errorf("letter = %+v, want item 9 after 2 attempts, cancelled, with the last error", l)
		}
		if box.ctxErr[0] != nil || sinkValue != "v" {
			t.Errorf("sink context: Err %v, value %v; want live, with the caller's value", box.ctxErr[0], sinkValue)
		}

		// Cancelled before the first attempt: still not lost.
		box = mailbox[int]{}
		err = retry.Process(ctx, p, 10, func(context.Context, int) error {
			t.Error("f called with a done context")
			return nil
		}, &box)
		if !errors.Is(err, context.Canceled) || len(box.letters) != 1 || box.letters[0].Attempts != 0 {
			t.Errorf("Process = %v with letters %+v, want one letter after 0 attempts", err, box.letters)
		}
	})
}

func TestProcessNilSinkPanics(t *testing.T) {
	msg := panicMessage(func() {
		_ = retry.Process[int](context.Background(), instant, 1, func(context.Context, int) error { return nil }, nil)
	})
	if msg != "retry: Process: nil DeadLetter" {
		t.Errorf("panic = %q, want retry: Process: nil DeadLetter", msg)
	}
	// A nil function in the interface is as nil: without the check the item
	// would be lost at its first failure.
	msg = panicMessage(func() {
		var f retry.DeadLetterFunc[int]
		_ = retry.Process[int](context.Background(), instant, 1, func(context.Context, int) error { return nil }, f)
	})
	if msg != "retry: Process: nil DeadLetter" {
		t.Errorf("panic with a nil DeadLetterFunc = %q, want retry: Process: nil DeadLetter", msg)
	}
}
