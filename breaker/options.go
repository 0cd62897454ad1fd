package breaker

import (
	"fmt"
	"math"
	"time"
)

// Option configures a [Breaker]; pass options to [New]. When an option is
// given twice, the last one wins. An option constructor panics, naming
// itself, when its argument can never work (a rate outside (0, 1], a
// threshold below 1, a negative duration); [New] panics the same way when
// options contradict each other.
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

	consecutive int // 0: no consecutive-failure rule

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
}

func fail(format string, args ...any) {
	panic(fmt.Sprintf("breaker: "+format, args...))
}

func validRate(r float64) bool { return r > 0 && r <= 1 } // false for NaN

// Name sets the name that [*OpenError] and [Event] carry, so that one
// listener or log line can tell many breakers apart. The default is empty.
func Name(name string) Option {
	return optionFunc(func(c *config) { c.name = name })
}

// ConsecutiveFailures trips the breaker when n calls in a row fail. It is
// the rule a breaker uses when no window is configured, with n = 5. With
// [CountWindow] or [TimeWindow] it is off unless given, and when given it
// applies next to the window's rates. Any success resets the run of
// failures; ignored outcomes neither extend nor reset it. It panics if
// n < 1.
//
// This rule costs least: a success only reads a shared counter (it writes
// only when a failure preceded it), so the success path scales across cores.
func ConsecutiveFailures(n int) Option {
	if n < 1 {
		fail("ConsecutiveFailures(%d): the threshold must be at least 1", n)
	}
	return optionFunc(func(c *config) { c.consecutive = n })
}

// CountWindow counts the outcomes of the last size calls, for [FailureRate]
// and [SlowCall]. Ignored outcomes take no place in the window. It panics
// unless 1 ≤ size ≤ 65536.
//
// Every call through a count window writes one shared counter, so the
// success path costs a few nanoseconds more than with
// [ConsecutiveFailures] alone and does not scale across cores.
func CountWindow(size int) Option {
	if size < 1 || size > maxCountWindow {
		fail("CountWindow(%d): the size must be between 1 and %d", size, maxCountWindow)
	}
	return optionFunc(func(c *config) {
		c.window, c.countSize = countWindowKind, size
	})
}

// TimeWindow counts the outcomes of the calls that finished in the last d,
// for [FailureRate] and [SlowCall]. The window slides in steps of d/buckets:
// outcomes are kept per bucket, and the window is the current bucket and the
// buckets-1 before it, so it reaches back between d - d/buckets and d.
// Each bucket counts up to about a million calls; past that, further
// outcomes in the same bucket are not counted. It panics unless
// 1 ≤ buckets ≤ 4096 and d/buckets is at least a millisecond.
//
// A time window reads the clock once per call, when the call is reported.
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

// FailureRate trips the breaker when, after a failure, the failed share of
// the calls in the window is at least rate and the window holds at least
// [MinCalls] calls. With a window configured the default rate is 0.5. It
// needs [CountWindow] or [TimeWindow] ([New] panics otherwise), and it panics
// unless 0 < rate ≤ 1.
func FailureRate(rate float64) Option {
	if !validRate(rate) {
		fail("FailureRate(%v): the rate must be in (0, 1]", rate)
	}
	return optionFunc(func(c *config) {
		c.rate = rate
		c.needWindow = append(c.needWindow, fmt.Sprintf("FailureRate(%v)", rate))
	})
}

// MinCalls is how many calls the window must hold before [FailureRate] or
// [SlowCall] may trip the breaker, so that two failures out of three calls
// at startup do not open it. The default is 10, or the size of a smaller
// [CountWindow]. It needs a window ([New] panics otherwise, and also when n
// exceeds the size of a count window, which could then never trip), and it
// panics if n < 1.
func MinCalls(n int) Option {
	if n < 1 {
		fail("MinCalls(%d): the minimum must be at least 1", n)
	}
	return optionFunc(func(c *config) {
		c.minCalls = n
		c.needWindow = append(c.needWindow, fmt.Sprintf("MinCalls(%d)", n))
	})
}

// SlowCall counts a successful call that took longer than threshold as slow,
// and trips the breaker when, after a slow call, the slow share of the calls
// in the window is at least rate (and the window holds at least [MinCalls]
// calls). The caller still gets the call's result; only the breaker's
// bookkeeping differs. In the half-open state a slow probe counts as a
// failed one. It needs [CountWindow] or [TimeWindow] ([New] panics
// otherwise), and it panics unless threshold > 0 and 0 < rate ≤ 1.
//
// Timing a call costs two clock reads: one when it is admitted and one when
// it is reported.
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
// probes. The default is 5s. [OpenBackoff] makes it grow on re-opens and
// [Jitter] spreads it. It panics unless d > 0.
func OpenFor(d time.Duration) Option {
	if d <= 0 {
		fail("OpenFor(%v): the duration must be positive", d)
	}
	return optionFunc(func(c *config) { c.openFor = d })
}

// OpenBackoff multiplies the open time by factor each time a half-open
// breaker re-opens, up to max, before [Jitter] spreads it (so a jittered
// open time can pass max by the jitter's fraction); it falls back to
// [OpenFor] once the breaker closes. A factor of 1 keeps the open time
// fixed, the default. It panics unless factor ≥ 1; [New] panics if max is
// shorter than OpenFor.
func OpenBackoff(factor float64, max time.Duration) Option {
	if !(factor >= 1) || math.IsInf(factor, 1) {
		fail("OpenBackoff(%v, %v): the factor must be at least 1 and finite", factor, max)
	}
	return optionFunc(func(c *config) {
		c.backoffFactor, c.openMax = factor, max
	})
}

// Jitter spreads each open time uniformly over ±fraction of itself, so that
// many processes whose breakers tripped together do not all probe the
// dependency at the same moment. The default is 0, no jitter. It panics
// unless 0 ≤ fraction < 1.
func Jitter(fraction float64) Option {
	if !(fraction >= 0 && fraction < 1) {
		fail("Jitter(%v): the fraction must be in [0, 1)", fraction)
	}
	return optionFunc(func(c *config) { c.jitter = fraction })
}

// HalfOpenProbes is how many probe calls a half-open breaker lets through at
// once; further calls get [ErrTooManyProbes] until a probe is reported. The
// default is 1. It panics unless 1 ≤ n ≤ 1024.
func HalfOpenProbes(n int) Option {
	if n < 1 || n > maxProbes {
		fail("HalfOpenProbes(%d): the number of probes must be between 1 and %d", n, maxProbes)
	}
	return optionFunc(func(c *config) { c.probes = n })
}

// SuccessesToClose is how many probes must succeed before a half-open
// breaker closes; one failed probe re-opens it. It may exceed
// [HalfOpenProbes]: probes are then admitted as earlier ones are reported.
// The default is the number of probes. It panics if n < 1.
func SuccessesToClose(n int) Option {
	if n < 1 {
		fail("SuccessesToClose(%d): the number of successes must be at least 1", n)
	}
	return optionFunc(func(c *config) { c.toClose = n })
}

// ProbeTimeout is the lease of a probe: a probe not reported within d is
// taken back and counted as a failure, which re-opens the breaker. So a
// probe whose result is lost (a two-step caller that never reports, a
// goroutine that dies) can never hold a half-open breaker forever. The lease
// is checked by the next call that looks at the breaker; no timer runs. The
// default is 30s. It panics unless d > 0.
func ProbeTimeout(d time.Duration) Option {
	if d <= 0 {
		fail("ProbeTimeout(%v): the duration must be positive", d)
	}
	return optionFunc(func(c *config) { c.probeTimeout = d })
}

// Classify replaces the default classification of errors (see
// [DefaultOutcome]) with f. f is called, outside any lock of the breaker,
// for every non-nil error a call reports; a nil error is always a
// [Success], and a panic is always a [Failure]. f must be safe for
// concurrent use. A nil f restores the default.
func Classify(f func(err error) Outcome) Option {
	return optionFunc(func(c *config) { c.classify = f })
}

// OnStateChange sets a listener that receives every state change, one at a
// time and in order. It is called outside every lock of the breaker, on the
// goroutine whose call caused the change or on one that is already
// delivering earlier events, so it may call back into the breaker ([Breaker.State],
// [Breaker.Stats], even [Breaker.ForceOpen]). Changes that happen while it
// runs are delivered after it returns. It should return quickly. If it
// panics, the panic reaches the caller of the breaker method that was
// delivering; the breaker stays consistent (a probe being admitted when it
// panicked gives its slot back), and the events queued behind that one are
// delivered by the next call that delivers events, State and Stats
// included. A nil f removes the listener.
func OnStateChange(f func(Event)) Option {
	return optionFunc(func(c *config) { c.onChange = f })
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
