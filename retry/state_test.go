package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/retry"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// With the caller's clock, State records when the item started and when
// the last outcome came, and the terminal error measures from the start.
func TestStateUsesTheCallersClock(t *testing.T) {
	p := retry.New(retry.Attempts(3), retry.Constant(time.Second), retry.NoJitter())
	s := p.Start(t0)
	ctx := context.Background()
	if d, err := s.Next(ctx, errTransient, t0.Add(2*time.Second)); d != time.Second || err != nil {
		t.Fatalf("Next 1 = %v, %v; want 1s, nil", d, err)
	}
	if d, err := s.Next(ctx, errTransient, t0.Add(5*time.Second)); d != time.Second || err != nil {
		t.Fatalf("Next 2 = %v, %v; want 1s, nil", d, err)
	}
	_, err := s.Next(ctx, errTransient, t0.Add(9*time.Second))
	var re *retry.Error
	if !errors.As(err, &re) || re.Cause != retry.ErrExhausted || re.Attempts != 3 || re.Elapsed != 9*time.Second {
		t.Fatalf("Next 3 = %v, want ErrExhausted after 3 attempts and 9s", err)
	}
	if s.Attempts() != 3 || !s.First().Equal(t0) || !s.Last().Equal(t0.Add(9*time.Second)) {
		t.Errorf("Attempts, First, Last = %d, %v, %v; want 3, t0, t0+9s", s.Attempts(), s.First(), s.Last())
	}

	s = p.Start(t0)
	if d, err := s.Next(ctx, nil, t0.Add(time.Second)); d != 0 || err != nil || !s.Last().Equal(t0.Add(time.Second)) || s.Attempts() != 1 {
		t.Errorf("Next(nil) = %v, %v, Last %v; want 0, nil, t0+1s", d, err, s.Last())
	}
}

// MaxElapsed and the deadline are judged with the caller's clock.
func TestStateLimitsWithTheCallersClock(t *testing.T) {
	p := retry.New(retry.Attempts(retry.Unlimited), retry.Constant(time.Second), retry.NoJitter(), retry.MaxElapsed(10*time.Second))
	s := p.Start(t0)
	if _, err := s.Next(context.Background(), errTransient, t0.Add(9*time.Second)); err != nil {
		t.Errorf("Next at 9s = %v, want a retry at 10s", err)
	}
	if _, err := s.Next(context.Background(), errTransient, t0.Add(9*time.Second+1)); !errors.Is(err, retry.ErrMaxElapsed) {
		t.Errorf("Next at 9s+1ns = %v, want ErrMaxElapsed", err)
	}

	ctx, cancel := context.WithDeadline(context.Background(), t0.Add(time.Minute))
	defer cancel()
	s = p.With(retry.MaxElapsed(0)).Start(t0)
	if _, err := s.Next(ctx, errTransient, t0.Add(58*time.Second)); err != nil {
		t.Errorf("Next 2s before the deadline = %v, want a retry", err)
	}
	if _, err := s.Next(ctx, errTransient, t0.Add(59*time.Second)); !errors.Is(err, retry.ErrDeadline) {
		t.Errorf("Next 1s before the deadline = %v, want ErrDeadline", err)
	}
}

// The zero State is that of the zero Policy, and its clock starts at the
// first Next.
func TestZeroState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s retry.State
		time.Sleep(time.Hour)
		for {
			time.Sleep(time.Second)
			_, err := s.Next(context.Background(), errTransient, time.Time{})
			if err == nil {
				continue
			}
			var re *retry.Error
			if !errors.As(err, &re) || re.Cause != retry.ErrExhausted || re.Attempts != 3 || re.Elapsed != 2*time.Second {
				t.Errorf("zero State gave up with %v, want ErrExhausted after 3 attempts and 2s", err)
			}
			if got := time.Since(s.First()); got != 2*time.Second {
				t.Errorf("First = %v before now, want 2s", got)
			}
			return
		}
	})
}

// A zero State takes its start from its first call to Next, a success
// included.
func TestZeroStateFirstSuccess(t *testing.T) {
	var s retry.State
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if d, err := s.Next(context.Background(), nil, now); d != 0 || err != nil {
		t.Fatalf("Next(nil) = %v, %v, want 0, nil", d, err)
	}
	if !s.First().Equal(now) || !s.Last().Equal(now) || s.Attempts() != 1 {
		t.Errorf("First, Last, Attempts = %v, %v, %d; want %v, %v, 1", s.First(), s.Last(), s.Attempts(), now, now)
	}
}

func TestStateContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := retry.New().Start(time.Now())
		ctx, cancel := s.Context(t.Context())
		cancel()
		if ctx != t.Context() {
			t.Errorf("Context without AttemptTimeout derived a new context")
		}
		s = retry.New(retry.AttemptTimeout(time.Second)).Start(time.Now())
		ctx, cancel = s.Context(t.Context())
		defer cancel()
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) != time.Second {
			t.Errorf("attempt context deadline in %v, want 1s", time.Until(dl))
		}
	})
}

// A retry decision allocates nothing, whatever the backoff and jitter.
func TestStateNextDoesNotAllocate(t *testing.T) {
	opts := []retry.Option{
		retry.NoJitter(), retry.FullJitter(), retry.EqualJitter(), retry.DecorrelatedJitter(), retry.ProportionalJitter(0.5),
		retry.Linear(time.Millisecond, time.Millisecond, time.Second), retry.Constant(time.Millisecond),
		retry.WithBudget(retry.NewBudget(1e6, 1)),
	}
	for _, o := range opts {
		p := retry.New(retry.Attempts(retry.Unlimited), o, retry.OnRetry(func(int, error, time.Duration) {}))
		s := p.Start(t0)
		ctx, cancel := context.WithDeadline(context.Background(), t0.Add(time.Hour))
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := s.Next(ctx, errTransient, t0); err != nil {
				t.Fatal(err)
			}
		})
		cancel()
		if allocs != 0 {
			t.Errorf("Next allocates %v times per retry, want 0", allocs)
		}
	}
}

func TestDoDoesNotAllocate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := func(context.Context) (int, error) { return 1, nil }
	if allocs := testing.AllocsPerRun(1000, func() { _, _ = retry.Do(ctx, retry.Policy{}, f) }); allocs != 0 {
		t.Errorf("Do of a first success allocates %v times, want 0", allocs)
	}
	p := retry.New(retry.Constant(0))
	n := 0
	g := func(context.Context) error {
		n++
		if n%3 != 0 {
			return errTransient
		}
		return nil
	}
	if allocs := testing.AllocsPerRun(1000, func() { _ = retry.Run(ctx, p, g) }); allocs != 0 {
		t.Errorf("Run of three attempts without delay allocates %v times, want 0", allocs)
	}
}
