package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"
	"github.com/weftgo/weft/breaker"
)

// errCall is the failure used to trip the peers' breakers, and
// errRejected the floor's rejection.
var (
	errCall     = errors.New("bench: call failed")
	errRejected = errors.New("bench: rejected")
)

// protected is the call every breaker guards: it does nothing, and is not
// inlined, so that each implementation pays for one real call.
//
//go:noinline
func protected() error { return nil }

// protectedCtx is protected with weft's signature.
//
//go:noinline
func protectedCtx(context.Context) error { return nil }

// reject is the open floor: the cheapest refusal there is, a call that
// returns a ready-made error.
//
//go:noinline
func reject() error { return errRejected }

// breakerImpl builds a breaker, open or closed, and returns one guarded call,
// which returns nil when the breaker admitted the call and it succeeded, and
// an error when the breaker refused it. The returned func must be safe for
// concurrent use (path=closed-parallel).
type breakerImpl struct {
	name    string
	prepare func(ctx context.Context, open bool) func() error
	// openOnly marks an implementation measured on path=open only.
	openOnly bool
}

// openFor is the open time of every breaker that is tripped: long enough
// that none turns half-open during a benchmark.
const openFor = time.Hour

var breakerImpls = []breakerImpl{
	// floor: a bare call of the guarded func (path=open: reject).
	{name: "floor", prepare: func(_ context.Context, open bool) func() error {
		if open {
			return reject
		}
		return protected
	}},
	// weft: Breaker.Run; path=open trips it with failures, as the peers
	// are tripped, so that each rejection reads the clock to see whether
	// the open time is over.
	{name: "weft", prepare: func(ctx context.Context, open bool) func() error {
		b := breaker.New(breaker.OpenFor(openFor))
		if open {
			tripWeft(ctx, b)
		}
		return func() error { return b.Run(ctx, protectedCtx) }
	}},
	// weft-ticket: the two-step Allow API, then Ticket.Done.
	{name: "weft-ticket", prepare: func(ctx context.Context, open bool) func() error {
		b := breaker.New(breaker.OpenFor(openFor))
		if open {
			tripWeft(ctx, b)
		}
		return func() error {
			t, err := b.Allow()
			if err != nil {
				return err
			}
			err = protectedCtx(ctx)
			t.Done(err)
			return err
		}
	}},
	// weft-forced: Breaker.Run on a breaker held open with ForceOpen,
	// which rejects without reading the clock. No peer is measured in
	// that state, so it is a row of its own and in no headline.
	{name: "weft-forced", openOnly: true, prepare: func(ctx context.Context, _ bool) func() error {
		b := breaker.New(breaker.OpenFor(openFor))
		b.ForceOpen()
		return func() error { return b.Run(ctx, protectedCtx) }
	}},
	// gobreaker: CircuitBreaker.Execute, tripped by its default rule
	// (more than 5 consecutive failures) with a Timeout of an hour.
	{name: "gobreaker", prepare: func(_ context.Context, open bool) func() error {
		cb := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Name: "bench", Timeout: openFor})
		if open {
			fail := func() (struct{}, error) { return struct{}{}, errCall }
			for range 100 {
				if _, err := cb.Execute(fail); errors.Is(err, gobreaker.ErrOpenState) {
					break
				}
			}
		}
		call := func() (struct{}, error) { return struct{}{}, protected() }
		return func() error {
			_, err := cb.Execute(call)
			return err
		}
	}},
	// failsafe: a circuit breaker run through failsafe's executor
	// (failsafe.With(cb), made once, then Run per call), with a delay of
	// an hour, tripped by failures run through the executor (its default
	// rule opens on the first).
	{name: "failsafe", prepare: func(_ context.Context, open bool) func() error {
		cb := circuitbreaker.NewBuilder[any]().WithDelay(openFor).Build()
		exec := failsafe.With[any](cb)
		if open {
			fail := func() error { return errCall }
			for range 100 {
				if errors.Is(exec.Run(fail), circuitbreaker.ErrOpen) {
					break
				}
			}
		}
		return func() error { return exec.Run(protected) }
	}},
	// failsafe-permit: the same breaker used directly, through its permit
	// API: TryAcquirePermit, then RecordSuccess or RecordFailure; tripped
	// by recorded failures.
	{name: "failsafe-permit", prepare: func(_ context.Context, open bool) func() error {
		cb := circuitbreaker.NewBuilder[any]().WithDelay(openFor).Build()
		if open {
			for range 100 {
				if !cb.TryAcquirePermit() {
					break
				}
				cb.RecordFailure()
			}
		}
		return func() error {
			if !cb.TryAcquirePermit() {
				return circuitbreaker.ErrOpen
			}
			if err := protected(); err != nil {
				cb.RecordFailure()
				return err
			}
			cb.RecordSuccess()
			return nil
		}
	}},
}

// tripWeft opens b the way a failing dependency does: with failed calls.
func tripWeft(ctx context.Context, b *breaker.Breaker) {
	fail := func(context.Context) error { return errCall }
	for range 100 {
		if errors.Is(b.Run(ctx, fail), breaker.ErrOpen) {
			return
		}
	}
}

var breakerPaths = []string{"closed", "closed-parallel", "open"}

func breakerImplsFor(path string) []breakerImpl {
	var impls []breakerImpl
	for _, im := range breakerImpls {
		if !im.openOnly || path == "open" {
			impls = append(impls, im)
		}
	}
	return impls
}

// BenchmarkBreaker measures one guarded call: a success through a closed
// breaker, serially and from every P at once, and a rejection by an open
// one.
func BenchmarkBreaker(b *testing.B) {
	ctx := context.Background()
	for _, path := range breakerPaths {
		for _, im := range breakerImplsFor(path) {
			b.Run("path="+path+"/impl="+im.name, func(b *testing.B) {
				if path != "closed-parallel" {
					noCurve(b)
				}
				call := im.prepare(ctx, path == "open")
				wantErr := path == "open"
				b.ReportAllocs()
				if path == "closed-parallel" {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if call() != nil {
								panic("bench: closed breaker refused a call")
							}
						}
					})
					return
				}
				for b.Loop() {
					if (call() != nil) != wantErr {
						b.Fatal("bench: breaker in the wrong state")
					}
				}
			})
		}
	}
}

// TestAgreeBreaker checks that every closed breaker admits every call and
// every open one refuses every call.
func TestAgreeBreaker(t *testing.T) {
	const calls = 1000
	for _, path := range breakerPaths {
		for _, im := range breakerImplsFor(path) {
			call := im.prepare(context.Background(), path == "open")
			admitted := 0
			for range calls {
				if call() == nil {
					admitted++
				}
			}
			want := calls
			if path == "open" {
				want = 0
			}
			if admitted != want {
				t.Errorf("path=%s/impl=%s: %d of %d calls admitted, want %d", path, im.name, admitted, calls, want)
			}
		}
	}
}
