package breaker

import (
	"fmt"
	"math"
	"time"
)

// Option configures a [Breaker]; pass options to [New]. The last of a kind
// wins. An option panics, naming itself, when its argument can never work.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults, as documented on the options.
const (
	defaultConsecutive  = 5
	defaultFailureRate  = 0.5
	defaultMinCalls     = 10
	defaultOpenFor      = 5 * time.Second
	defaultProbeTimeout = 30 * time.Second

	maxCountWindow = 1 << 16
	maxBuckets     = 1 << 12
	minBucketSpan  = time.Millisecond
	maxProbes      = 1 << 10
)

type windowKind uint8

const (
	noWindow windowKind = iota
	countWindowKind
	timeWindowKind
)

type config struct {
	name string

	// The cheapest rule: a success only reads the shared run of failures
	// (writing it only after a failure), so the success path scales.
	consecutive int // 0: no consecutive-failure rule

	// A count window costs every call one shared write; a time window a
	// clock read per report; a slow-call rule two clock reads per call.

	window     windowKind
	countSize  int
	timeSpan   time.Duration
	buckets    int
	rate       float64 // 0: not set
	minCalls   int     // 0: not set
	slowAfter  time.Duration
	slowRate   float64  // 0: no slow-call rule
	needWindow []string // options given that only work with a window

	openFor       time.Duration
	backoffFactor float64 // 0: no growth
	openMax       time.Duration
	jitter        float64

	probes       int
	toClose      int // 0: same as probes
	probeTimeout time.Duration

	classify func(error) Outcome
	onChange func(Event)
	onReject func(*OpenError)
	onSlow   func(took time.Duration)
}

func fail(format string, args ...any) {
	panic(fmt.Sprintf("breaker: "+format, args...))
}

func validRate(r float64) bool { return r > 0 && r <= 1 } // false for NaN

// Name sets the name that [*OpenError] and [Event] carry; the default is empty.
func Name(name string) Option {
	return optionFunc(func(c *config) { c.name = name })
}

// ConsecutiveFailures trips the breaker when n calls in a row fail; a success
// resets the run, an ignored result does not. It is the rule, with n = 5,
// when no window is set; with a window, only if given. It panics if n < 1.
func ConsecutiveFailures(n int) Option {
	if n < 1 {
		fail("ConsecutiveFailures(%d): the threshold must be at least 1", n)
	}
	return optionFunc(func(c *config) { c.consecutive = n })
}

// CountWindow makes [FailureRate] and [SlowCall] look at the last size results;
// ignored results take no place. It panics unless 1 ≤ size ≤ 65536.
func CountWindow(size int) Option {
	if size < 1 || size > maxCountWindow {
		fail("CountWindow(%d): the size must be between 1 and %d", size, maxCountWindow)
	}
	return optionFunc(func(c *config) {
		c.window, c.countSize = countWindowKind, size
	})
}

// TimeWindow makes the rates look at the results of the last d, in buckets
// steps, each counting up to about a million results. It panics unless
// 1 ≤ buckets ≤ 4096 and d/buckets is at least a millisecond.
func TimeWindow(d time.Duration, buckets int) Option {
	if buckets < 1 || buckets > maxBuckets {
		fail("TimeWindow(%v, %d): the number of buckets must be between 1 and %d", d, buckets, maxBuckets)
	}
	if d <= 0 || d/time.Duration(buckets) < minBucketSpan {
		fail("TimeWindow(%v, %d): each bucket must span at least %v", d, buckets, minBucketSpan)
	}
	return optionFunc(func(c *config) {
		c.window, c.timeSpan, c.buckets = timeWindowKind, d/time.Duration(buckets), buckets
	})
}

// FailureRate trips the breaker when, after a failure, at least a share rate
// of the window's results failed; the default with a window is 0.5. It needs
// a window ([New] panics otherwise), and panics unless 0 < rate ≤ 1.
func FailureRate(rate float64) Option {
	if !validRate(rate) {
		fail("FailureRate(%v): the rate must be in (0, 1]", rate)
	}
	return optionFunc(func(c *config) {
		c.rate = rate
		c.needWindow = append(c.needWindow, fmt.Sprintf("FailureRate(%v)", rate))
	})
}

// MinCalls is how many results a window must hold before a rate can trip the
// breaker: 10 by default, or a smaller [CountWindow]'s size. [New] panics
// without a window or if n exceeds a CountWindow's size; it panics if n < 1.
func MinCalls(n int) Option {
	if n < 1 {
		fail("MinCalls(%d): the minimum must be at least 1", n)
	}
	return optionFunc(func(c *config) {
		c.minCalls = n
		c.needWindow = append(c.needWindow, fmt.Sprintf("MinCalls(%d)", n))
	})
}

// SlowCall counts a success that took longer than threshold as slow (and a
// slow probe as failed), and trips the breaker when, after a slow call, at
// least a share rate of the window's results were slow. It needs a window
// ([New] panics otherwise), and panics unless threshold > 0 and 0 < rate ≤ 1.
func SlowCall(threshold time.Duration, rate float64) Option {
	if threshold <= 0 {
		fail("SlowCall(%v, %v): the threshold must be positive", threshold, rate)
	}
	if !validRate(rate) {
		fail("SlowCall(%v, %v): the rate must be in (0, 1]", threshold, rate)
	}
	return optionFunc(func(c *config) {
		c.slowAfter, c.slowRate = threshold, rate
		c.needWindow = append(c.needWindow, fmt.Sprintf("SlowCall(%v, %v)", threshold, rate))
	})
}

// OpenFor is how long the breaker stays open after it trips before it admits
// probes; the default is 5s. It panics unless d > 0.
func OpenFor(d time.Duration) Option {
	if d <= 0 {
		fail("OpenFor(%v): the duration must be positive", d)
	}
	return optionFunc(func(c *config) { c.openFor = d })
}

// OpenBackoff multiplies the open time by mult on each re-open from
// half-open, up to cap before [ProportionalJitter]; it returns to [OpenFor]
// once the breaker closes. The default mult is 1. It panics unless
// mult ≥ 1 and finite; [New] panics if cap is shorter than OpenFor.
func OpenBackoff(mult float64, cap time.Duration) Option {
	if !(mult >= 1) || math.IsInf(mult, 1) {
		fail("OpenBackoff(%v, %v): the factor must be at least 1 and finite", mult, cap)
	}
	return optionFunc(func(c *config) {
		c.backoffFactor, c.openMax = mult, cap
	})
}

// ProportionalJitter spreads each open time uniformly over ±fraction of itself, so that
// breakers that tripped together do not probe together. The default is 0; it
// panics unless 0 ≤ fraction < 1.
func ProportionalJitter(fraction float64) Option {
	if !(fraction >= 0 && fraction < 1) {
		fail("ProportionalJitter(%v): the fraction must be in [0, 1)", fraction)
	}
	return optionFunc(func(c *config) { c.jitter = fraction })
}

// HalfOpenProbes is how many probes a half-open breaker admits at once;
// others get [ErrTooManyProbes]. The default is 1; it panics unless
// 1 ≤ n ≤ 1024.
func HalfOpenProbes(n int) Option {
	if n < 1 || n > maxProbes {
		fail("HalfOpenProbes(%d): the number of probes must be between 1 and %d", n, maxProbes)
	}
	return optionFunc(func(c *config) { c.probes = n })
}

// SuccessesToClose is how many probes must succeed before a half-open breaker
// closes; one failed probe re-opens it. The default is [HalfOpenProbes]; it
// panics if n < 1.
func SuccessesToClose(n int) Option {
	if n < 1 {
		fail("SuccessesToClose(%d): the number of successes must be at least 1", n)
	}
	return optionFunc(func(c *config) { c.toClose = n })
}

// ProbeTimeout is a probe's lease: a probe not reported within d is counted
// as a failure, which re-opens the breaker. The default is 30s; it panics
// unless d > 0.
func ProbeTimeout(d time.Duration) Option {
	if d <= 0 {
		fail("ProbeTimeout(%v): the duration must be positive", d)
	}
	return optionFunc(func(c *config) { c.probeTimeout = d })
}

// Classify replaces [DefaultOutcome] with f for every non-nil error reported;
// nil is always a [Success] and a panic a [Failure]. f runs outside the
// breaker's locks and must be safe for concurrent use; nil restores the
// default.
func Classify(f func(err error) Outcome) Option {
	return optionFunc(func(c *config) { c.classify = f })
}

// OnStateChange sets a listener that gets every state change in order, one at
// a time, outside the breaker's locks (it may call back in), on the goroutine
// whose call caused it or one already delivering. It should return quickly;
// its panic reaches that caller. A nil f removes it.
func OnStateChange(f func(Event)) Option {
	// A panic in f leaves the breaker consistent: deliver calls f outside
	// the lock, after the change is recorded, and leaves the events still
	// queued to the next call that delivers.
	return optionFunc(func(c *config) { c.onChange = f })
}

// OnReject sets a hook called with the [*OpenError] of every call the breaker
// rejects, outside its locks and on the rejected caller's goroutine, before
// the rejection returns; its panic reaches that caller. Its calls add up to
// [Stats].Rejected. A nil f removes it.
func OnReject(f func(err *OpenError)) Option {
	return optionFunc(func(c *config) { c.onReject = f })
}

// OnSlowCall sets a hook called with the duration of every success the
// breaker counts as slow under [SlowCall] (a probe's included), once the
// breaker has recorded it, outside its locks, on the reporting caller's
// goroutine; its panic reaches that caller. A nil f removes it.
func OnSlowCall(f func(took time.Duration)) Option {
	return optionFunc(func(c *config) { c.onSlow = f })
}

// build applies opts over the defaults and checks the combination.
func build(opts []Option) config {
	c := config{
		openFor:      defaultOpenFor,
		probes:       1,
		probeTimeout: defaultProbeTimeout,
	}
	for _, o := range opts {
		o.apply(&c)
	}
	if c.window == noWindow {
		if len(c.needWindow) > 0 {
			fail("%s needs a window: add CountWindow or TimeWindow", c.needWindow[0])
		}
		if c.consecutive == 0 {
			c.consecutive = defaultConsecutive
		}
	} else {
		if c.rate == 0 {
			c.rate = defaultFailureRate
		}
		if c.minCalls == 0 {
			c.minCalls = defaultMinCalls
			if c.window == countWindowKind {
				c.minCalls = min(c.minCalls, c.countSize)
			}
		}
		if c.window == countWindowKind && c.minCalls > c.countSize {
			fail("MinCalls(%d) exceeds CountWindow(%d): the breaker could never trip", c.minCalls, c.countSize)
		}
	}
	if c.backoffFactor == 0 {
		c.backoffFactor, c.openMax = 1, c.openFor
	} else if c.openMax < c.openFor {
		fail("OpenBackoff(%v, %v): the maximum is shorter than OpenFor(%v)", c.backoffFactor, c.openMax, c.openFor)
	}
	if c.toClose == 0 {
		c.toClose = c.probes
	}
	return c
}
