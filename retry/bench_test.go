package retry_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/weftgo/weft/retry"
)

var (
	errBench   = errors.New("transient")
	benchSink  int
	benchFinal error
)

// succeed is called through a variable so that neither the bare call nor Do
// can inline it.
var succeed = func(context.Context) (int, error) { return 1, nil }

// failTwice returns a func that fails twice, then succeeds, then repeats.
func failTwice() func(context.Context) (int, error) {
	n := 0
	return func(context.Context) (int, error) {
		n++
		if n%3 != 0 {
			return 0, errBench
		}
		return n, nil
	}
}

// BenchmarkBareCall is the floor the other benchmarks are compared with:
// the function called directly.
func BenchmarkBareCall(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		v, err := succeed(ctx)
		if err != nil {
			b.Fatal(err)
		}
		benchSink += v
	}
}

// The package-level default policy, as most programs keep theirs.
var benchPolicy = retry.New()

func BenchmarkDoFirstSuccess(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		v, err := retry.Do(ctx, benchPolicy, succeed)
		if err != nil {
			b.Fatal(err)
		}
		benchSink += v
	}
}

func BenchmarkRunFirstSuccess(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		benchFinal = retry.Run(ctx, benchPolicy, f)
	}
}

func BenchmarkDoThreeAttemptsZeroDelay(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := retry.New(retry.Attempts(3), retry.Constant(0))
	f := failTwice()
	b.ReportAllocs()
	for b.Loop() {
		v, err := retry.Do(ctx, p, f)
		if err != nil {
			b.Fatal(err)
		}
		benchSink += v
	}
}

// BenchmarkDoWithRealDelays waits 1µs between attempts (the timer's
// resolution makes it longer). Its allocations do not grow with the number
// of attempts: the timer is made once per call and reused.
func BenchmarkDoWithRealDelays(b *testing.B) {
	for _, attempts := range []int{3, 10} {
		b.Run(strconv.Itoa(attempts)+"attempts", func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p := retry.New(retry.Attempts(attempts), retry.Constant(time.Microsecond), retry.NoJitter())
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				err := retry.Run(ctx, p, func(context.Context) error {
					n++
					if n < attempts {
						return errBench
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("background", func(b *testing.B) {
		p := retry.New(retry.Attempts(3), retry.Constant(time.Microsecond), retry.NoJitter())
		f := failTwice()
		b.ReportAllocs()
		for b.Loop() {
			v, err := retry.Do(context.Background(), p, f)
			if err != nil {
				b.Fatal(err)
			}
			benchSink += v
		}
	})
}

func BenchmarkDoExhausted(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := retry.New(retry.Attempts(3), retry.Constant(0))
	f := func(context.Context) (int, error) { return 0, errBench }
	b.ReportAllocs()
	for b.Loop() {
		_, benchFinal = retry.Do(ctx, p, f)
	}
}

func BenchmarkLoopFirstSuccess(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		loop := benchPolicy.Loop(ctx)
		for a := range loop.Attempts() {
			_, err := succeed(a.Context())
			if a.Done(err) {
				break
			}
		}
		benchFinal = loop.Err()
	}
}

// BenchmarkStateNext is one retry decision of the default policy, as a
// worker pool makes it: no sleeping, the caller's clock reading.
func BenchmarkStateNext(b *testing.B) {
	ctx := context.Background()
	p := retry.New(retry.Attempts(retry.Unlimited))
	now := time.Now()
	s := p.Start(now)
	b.ReportAllocs()
	for b.Loop() {
		d, err := s.Next(ctx, errBench, now)
		if err != nil {
			b.Fatal(err)
		}
		benchSink += int(d)
	}
}

// BenchmarkBudgetParallel is the cost of a shared budget on the success
// path, with every goroutine using it.
func BenchmarkBudgetParallel(b *testing.B) {
	p := retry.New(retry.WithBudget(retry.NewBudget(10, 0.1)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := retry.Do(ctx, p, succeed); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
