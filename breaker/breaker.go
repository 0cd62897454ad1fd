package breaker

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft/internal/catch"
)

// Breaker admits calls to a dependency while it works and, for a while after
// it fails, rejects them at once with an [*OpenError]. Call through it with
// [Breaker.Run], [Do] or [Breaker.Allow]. A Breaker is safe for concurrent
// use and must not be copied; create one with [New].
type Breaker struct {
	// In the closed state, admitting a call and reporting its success take
	// no lock and allocate nothing; only state changes, probes and Stats
	// take mu.
	// rejected counts the calls rejected since New, and forced is 1 while
	// the breaker is forced open. Both are used only through sync/atomic's
	// functions, not its types, which keeps Run cheap enough to be inlined
	// into its caller: a rejection by a forced-open breaker then costs a
	// load, a test and an add, without a call. rejected comes first so that
	// it is 64-bit aligned on 32-bit platforms, as atomic.AddUint64 needs.
	rejected uint64
	forced   uint32
	// stranded is 1 while events wait in queue that a panicking listener
	// left behind, so that State delivers them without the lock when it
	// has no other reason to take it.
	stranded uint32
	cur      atomic.Pointer[period]

	// Immutable after New.
	cfg       config
	timeCall  bool  // calls are timed: a slow-call rule is set
	clocked   bool  // a closed-state report needs the clock
	slowNs    int64 // slow-call threshold in nanoseconds
	base      time.Time
	errForced *OpenError // every forced-open period's error

	// Written on ignored reports; kept off the line of cur, which every
	// call reads. (A rejection writes rejected, on that line, but in the
	// states that reject, there is no closed-state path to slow down.)
	_       [64]byte
	ignored atomic.Uint64

	// mu orders state changes. Whoever takes it reads the clock after
	// taking it, so that the times of events never go back and no lease
	// starts before the period that grants it.
	mu         sync.Mutex
	nextLease  uint64  // guarded by mu
	queue      []Event // guarded by mu: events not yet delivered
	delivering bool    // guarded by mu: a goroutine is delivering queue
}

// period is one stretch of a breaker's life in one state. Every state change
// installs a new period, and an admitted call remembers the period that
// admitted it, so a result reported after the state changed is recognised by
// pointer and ignored: it can never move state or counters.
type period struct {
	b     *Breaker
	state State

	// Closed, for the fast paths: admit means a call needs no clock read to
	// be admitted, and quick that a success is recorded by succeeded: it
	// needs no start time, no lock and no staleness check.
	admit, quick bool
	consecOn     bool // a ConsecutiveFailures rule is set

	// Closed.
	consec atomic.Int64 // failures in a row
	cw     *countWindow
	tw     *timeWindow

	// Open and half-open.
	forced  bool
	until   int64 // ns after base when an open period ends
	reopens int   // half-open → open changes since the breaker was last closed
	err     *OpenError

	// Half-open, guarded by b.mu.
	leases    []lease
	inFlight  int
	successes int
	// Half-open: while every probe slot is taken, the earliest lease expiry
	// (0 otherwise), so that the calls rejected meanwhile, often nearly all
	// the traffic, are turned away without the lock.
	busyUntil atomic.Int64
}

// lease is one probe slot of a half-open period; id 0 is a free slot.
type lease struct {
	id      uint64
	expires int64
}

// New returns a closed Breaker configured by opts; by default it opens after
// 5 consecutive failures for 5s, then one probe's success closes it. It
// panics, naming the option, when options contradict each other.
func New(opts ...Option) *Breaker {
	c := build(opts)
	b := &Breaker{
		cfg:      c,
		timeCall: c.slowRate > 0,
		slowNs:   int64(c.slowAfter),
		base:     time.Now(),
	}
	b.errForced = &OpenError{Name: c.name, State: Open, Forced: true}
	b.clocked = b.timeCall || c.window == timeWindowKind
	b.cur.Store(b.closedPeriod(0))
	return b
}

// Name returns the name set with the [Name] option.
func (b *Breaker) Name() string { return b.cfg.name }

// now is the breaker's clock: nanoseconds since New, from the monotonic
// clock. It costs one monotonic clock read, half the cost of time.Now.
func (b *Breaker) now() int64 { return int64(time.Since(b.base)) }

func (b *Breaker) time(ns int64) time.Time { return b.base.Add(time.Duration(ns)) }

func (b *Breaker) closedPeriod(now int64) *period {
	p := &period{
		b:        b,
		state:    Closed,
		admit:    !b.timeCall,
		quick:    !b.timeCall,
		consecOn: b.cfg.consecutive > 0,
	}
	switch b.cfg.window {
	case countWindowKind:
		p.cw = newCountWindow(b.cfg.countSize)
	case timeWindowKind:
		p.tw = newTimeWindow(int64(b.cfg.timeSpan), b.cfg.buckets, now)
	}
	return p
}

// openPeriod returns an open period that starts at time at, after reopens
// consecutive re-opens from half-open.
func (b *Breaker) openPeriod(reopens int, at int64) *period {
	// OpenFor·factor^reopens, in closed form: a loop would make every
	// re-open cost as many steps as there were re-opens before it, under
	// the lock. Pow saturates at +Inf, which the cap takes care of.
	d := float64(b.cfg.openFor)
	if reopens > 0 && b.cfg.backoffFactor > 1 {
		d *= math.Pow(b.cfg.backoffFactor, float64(reopens))
	}
	d = min(d, float64(b.cfg.openMax))
	if b.cfg.jitter > 0 {
		d *= 1 + b.cfg.jitter*(2*rand.Float64()-1)
	}
	// 2⁶² ns is 146 years: with at no larger, the sum cannot overflow.
	until := at + int64(min(d, 1<<62))
	return &period{
		b:       b,
		state:   Open,
		until:   until,
		reopens: reopens,
		err:     &OpenError{Name: b.cfg.name, State: Open, Until: b.time(until)},
	}
}

func (b *Breaker) forcedPeriod() *period {
	return &period{
		b:      b,
		state:  Open,
		forced: true,
		err:    b.errForced,
	}
}

func (b *Breaker) halfOpenPeriod(reopens int) *period {
	p := &period{
		b:       b,
		state:   HalfOpen,
		reopens: reopens,
		leases:  make([]lease, b.cfg.probes),
	}
	p.err = &OpenError{Name: b.cfg.name, State: HalfOpen, p: p}
	return p
}

// retryAfter is the wait a rejection by p, a half-open period, suggests.
// A zero wait would send every caller turned away straight back to be
// turned away again, a busy loop for a retry policy that honours it; a wait
// as long as the lease (30s by default) would keep callers away long after
// a quick probe closed the breaker. So while every slot is taken the wait
// is drawn from (0, min(OpenFor, time left on the first lease)], spreading
// the callers out; once a slot is free or the period is over, the next
// call will learn more, and the wait is the shortest there is.
func (p *period) retryAfter() time.Duration {
	b := p.b
	busy := p.busyUntil.Load()
	if busy == 0 || b.cur.Load() != p {
		return time.Nanosecond
	}
	d := min(int64(b.cfg.openFor), busy-b.now())
	return time.Duration(1 + rand.Int64N(max(d, 1)))
}

// setLocked installs np, which took effect at time at, and queues its event.
// b.mu must be held; call b.deliver after unlocking.
func (b *Breaker) setLocked(np *period, reason Reason, at int64) {
	old := b.cur.Load()
	// forced is set after a forced period is installed and cleared before
	// it is replaced, so a call that finds forced set was made while the
	// breaker was forced open. One that finds it clear in a forced period
	// is rejected by the slower path.
	if old.forced {
		atomic.StoreUint32(&b.forced, 0)
	}
	b.cur.Store(np)
	// With an OnReject hook, forced stays clear: Run's inlined rejection
	// has no room for the hook, and the slower path calls it.
	if np.forced && b.cfg.onReject == nil {
		atomic.StoreUint32(&b.forced, 1)
	}
	if b.cfg.onChange == nil || (old.state == Closed && np.state == Closed) {
		return
	}
	b.queue = append(b.queue, Event{
		Name:   b.cfg.name,
		From:   old.state,
		To:     np.state,
		Reason: reason,
		At:     b.time(at),
	})
}

// advanceLocked brings the state up to date with the clock: an open period
// whose time has passed turns half-open, and a half-open period with an
// expired probe lease re-opens. Each change takes effect at the moment it
// became due, so the result does not depend on when anyone looks. b.mu must
// be held.
func (b *Breaker) advanceLocked(now int64) {
	for {
		p := b.cur.Load()
		switch {
		case p.state == Open && !p.forced && now >= p.until:
			b.setLocked(b.halfOpenPeriod(p.reopens), ReasonOpenElapsed, p.until)
		case p.state == HalfOpen && p.inFlight > 0:
			expires := p.earliestExpiry()
			if now < expires {
				return
			}
			b.setLocked(b.openPeriod(p.reopens+1, expires), ReasonProbeTimeout, expires)
		default:
			return
		}
	}
}

// deliver hands queued events to the listener, in order and outside the
// lock. Only one goroutine delivers at a time; the others leave their events
// to it.
func (b *Breaker) deliver() {
	if b.cfg.onChange == nil {
		return
	}
	b.mu.Lock()
	if b.delivering || len(b.queue) == 0 {
		b.mu.Unlock()
		return
	}
	b.delivering = true
	finished := false
	defer func() {
		if !finished {
			// The listener panicked: let the panic go on, and let the next
			// call that delivers events deliver what is left.
			b.mu.Lock()
			b.delivering = false
			if len(b.queue) > 0 {
				atomic.StoreUint32(&b.stranded, 1)
			}
			b.mu.Unlock()
		}
	}()
	for len(b.queue) > 0 {
		ev := b.queue[0]
		b.queue = b.queue[1:]
		b.mu.Unlock()
		b.cfg.onChange(ev)
		b.mu.Lock()
	}
	b.queue = nil
	b.delivering = false
	atomic.StoreUint32(&b.stranded, 0)
	finished = true
	b.mu.Unlock()
}

// Allow asks to make one call and never blocks. It returns a [Ticket] on
// which the caller must report the result, or the zero Ticket and an
// [*OpenError]. Use it where a call cannot be wrapped, as in a
// [net/http.RoundTripper]; [Breaker.Run] and [Do] cannot forget to report.
func (b *Breaker) Allow() (Ticket, error) {
	// Closed: no lock, no allocation, and a clock read only for SlowCall.
	// A rejection by an open breaker takes no lock either; it reads the
	// clock once to see whether the open time has passed, unless forced.
	p := b.cur.Load()
	if p.admit {
		return Ticket{p: p}, nil
	}
	return b.allowSlow(p)
}

// allowSlow is Allow for a breaker that is not closed, or whose calls are
// timed; p is the current period.
func (b *Breaker) allowSlow(p *period) (Ticket, error) {
	switch p.state {
	case Closed:
		return Ticket{p: p, start: b.now()}, nil
	case Open:
		if p.forced {
			return Ticket{}, b.reject(p.err)
		}
		now := b.now()
		if now < p.until {
			return Ticket{}, b.reject(p.err)
		}
		return b.allowLocked()
	}
	now := b.now()
	if busy := p.busyUntil.Load(); busy != 0 && now < busy {
		return Ticket{}, b.reject(p.err)
	}
	return b.allowLocked()
}

// allowLocked is Allow under the lock.
func (b *Breaker) allowLocked() (Ticket, error) {
	b.mu.Lock()
	now := b.now()
	b.advanceLocked(now)
	p := b.cur.Load()
	var t Ticket
	var err *OpenError
	switch {
	case p.state == Closed:
		t = Ticket{p: p, start: now}
	case p.state == HalfOpen && p.inFlight < len(p.leases):
		b.nextLease++
		for i := range p.leases {
			if p.leases[i].id == 0 {
				// As for the open time, 2⁶² ns caps the lease, so that
				// ProbeTimeout(math.MaxInt64), "never", cannot overflow.
				p.leases[i] = lease{id: b.nextLease, expires: now + min(int64(b.cfg.probeTimeout), 1<<62)}
				break
			}
		}
		p.inFlight++
		if p.inFlight == len(p.leases) {
			p.busyUntil.Store(p.earliestExpiry())
		}
		t = Ticket{p: p, start: now, lease: b.nextLease}
	default:
		atomic.AddUint64(&b.rejected, 1)
		err = p.err
	}
	b.mu.Unlock()
	if err != nil {
		b.deliver()
		return t, b.rejected1(err)
	}
	if t.lease != 0 {
		// A listener that panics here keeps the probe from its caller:
		// give its slot back, or nothing would until the lease ran out.
		delivered := false
		defer func() {
			if !delivered {
				b.abandon(t)
			}
		}()
		b.deliver()
		delivered = true
		return t, nil
	}
	b.deliver()
	return t, nil
}

// abandon frees the probe slot of t, a probe that never reached its caller.
// Nothing is counted: the call was never made.
func (b *Breaker) abandon(t Ticket) {
	b.mu.Lock()
	if b.cur.Load() == t.p {
		t.p.release(t.lease)
	}
	b.mu.Unlock()
}

// record applies outcome o of a call admitted by period p at start.
func (b *Breaker) record(p *period, start int64, leaseID uint64, o Outcome) {
	if p.state != Closed {
		b.recordProbe(p, start, leaseID, o)
		return
	}
	if b.cur.Load() != p {
		return // admitted before a state change: stale
	}
	var now int64
	if b.clocked {
		now = b.now()
	}
	switch o {
	case Success:
		slow := b.timeCall && now-start > b.slowNs
		if p.consecOn && p.consec.Load() != 0 {
			p.consec.Store(0)
		}
		if !slow {
			if p.cw != nil {
				p.cw.success()
			} else if p.tw != nil {
				p.tw.add(now, kindSuccess)
			}
			return
		}
		if b.cfg.onSlow != nil {
			// After the result is recorded, even if the hook panics.
			defer b.cfg.onSlow(time.Duration(now - start))
		}
		if c := b.window(p, now, kindSlow); c.trips(c.slow, b.cfg.slowRate, b.cfg.minCalls) {
			b.trip(p, ReasonSlowCallRate)
		}
	case Ignore:
		b.ignored.Add(1)
	default:
		if p.consecOn && p.consec.Add(1) >= int64(b.cfg.consecutive) {
			b.trip(p, ReasonConsecutiveFailures)
			return
		}
		if b.cfg.window == noWindow {
			return
		}
		c := b.window(p, now, kindFailure)
		if c.trips(c.failures, b.cfg.rate, b.cfg.minCalls) {
			b.trip(p, ReasonFailureRate)
		}
	}
}

// window records kind k in p's window and returns the window's counts.
func (b *Breaker) window(p *period, now int64, k uint32) counts {
	if p.cw != nil {
		p.cw.add(k)
		return p.cw.load()
	}
	p.tw.add(now, k)
	return p.tw.load(now)
}

func (b *Breaker) counts(p *period, now int64) counts {
	switch {
	case p.cw != nil:
		return p.cw.load()
	case p.tw != nil:
		return p.tw.load(now)
	}
	return counts{}
}

// trip opens the breaker if p, a closed period, is still current.
func (b *Breaker) trip(p *period, reason Reason) {
	b.mu.Lock()
	now := b.now()
	if b.cur.Load() == p {
		b.setLocked(b.openPeriod(0, now), reason, now)
	}
	b.mu.Unlock()
	b.deliver()
}

// recordProbe applies outcome o of the probe holding lease leaseID of the
// half-open period p.
func (b *Breaker) recordProbe(p *period, start int64, leaseID uint64, o Outcome) {
	b.mu.Lock()
	now := b.now()
	b.advanceLocked(now) // an expired lease, this one included, is a failure
	slow := false
	if b.cur.Load() == p && p.release(leaseID) {
		switch {
		case o == Ignore:
			b.ignored.Add(1)
		case o != Success:
			b.setLocked(b.openPeriod(p.reopens+1, now), ReasonProbeFailed, now)
		case b.timeCall && now-start > b.slowNs:
			slow = true
			b.setLocked(b.openPeriod(p.reopens+1, now), ReasonProbeSlow, now)
		default:
			p.successes++
			if p.successes >= b.cfg.toClose {
				b.setLocked(b.closedPeriod(now), ReasonProbesSucceeded, now)
			}
		}
	}
	b.mu.Unlock()
	b.deliver()
	if slow && b.cfg.onSlow != nil {
		b.cfg.onSlow(time.Duration(now - start))
	}
}

// release frees the probe slot holding leaseID and reports whether it held
// it. b.mu must be held.
func (p *period) release(leaseID uint64) bool {
	for i := range p.leases {
		if p.leases[i].id == leaseID {
			p.leases[i] = lease{}
			p.inFlight--
			p.busyUntil.Store(0)
			return true
		}
	}
	return false
}

// earliestExpiry returns when the first of the leases held runs out, or
// MaxInt64 if none is held. b.mu must be held.
func (p *period) earliestExpiry() int64 {
	expires := int64(math.MaxInt64)
	for _, l := range p.leases {
		if l.id != 0 {
			expires = min(expires, l.expires)
		}
	}
	return expires
}

// Run calls f with ctx if the breaker admits the call and reports its result;
// it returns f's error, or the [*OpenError] without calling f. Without
// [Classify], [context.Canceled] is ignored only when ctx is done. Run blocks
// only while f runs; a panic in f or [Classify] goes on up after being
// counted as a failure.
func (b *Breaker) Run(ctx context.Context, f func(context.Context) error) error {
	// A breaker forced open turns a call away here, before run sets up its
	// deferred report. Run is small enough to be inlined: keep it so, and
	// a forced rejection stays one atomic load and one add in the caller's
	// frame.
	if atomic.LoadUint32(&b.forced) != 0 {
		atomic.AddUint64(&b.rejected, 1)
		return b.errForced
	}
	return b.run(ctx, f)
}

// reject counts a call rejected with err, calls the OnReject hook, and
// returns err.
func (b *Breaker) reject(err *OpenError) error {
	atomic.AddUint64(&b.rejected, 1)
	return b.rejected1(err)
}

// rejected1 calls the OnReject hook, if any, for a rejection with err
// already counted, and returns err.
func (b *Breaker) rejected1(err *OpenError) error {
	if b.cfg.onReject != nil {
		b.cfg.onReject(err)
	}
	return err
}

// run is Run once a forced-open breaker has been ruled out.
func (b *Breaker) run(ctx context.Context, f func(context.Context) error) error {
	var t Ticket
	var err error
	if p := b.cur.Load(); p.admit {
		t.p = p // Allow's fast path, spelled out: Allow is not inlined
	} else if t, err = b.allowSlow(p); err != nil {
		return err
	}
	defer func() {
		if t.p != nil { // f panicked or called Goexit
			t.report(Failure)
		}
	}()
	if err = f(ctx); err != nil {
		t.fail(ctx, err)
		return err
	}
	if p := t.p; p.quick {
		// period.succeeded, spelled out: the call to it (too big to be
		// inlined) costs Run a third of its overhead in these modes.
		t.p = nil
		if p.consec.Load() != 0 {
			p.consec.Store(0)
		}
		if p.cw != nil {
			p.cw.success()
		} else if p.tw != nil {
			p.tw.add(b.now(), kindSuccess)
		}
		return nil
	}
	t.report(Success)
	return nil
}

// Do is [Breaker.Run] for a function with a result, and panic-safe: a panic
// in f or [Classify] is counted as a failure and returned as a
// [*github.com/weftgo/weft.PanicError] with T's zero value. A rejected call
// returns T's zero value and the [*OpenError]. If f calls [runtime.Goexit],
// the call counts as a failure and Do does not return.
func Do[T any](ctx context.Context, b *Breaker, f func(context.Context) (T, error)) (v T, err error) {
	var t Ticket
	if p := b.cur.Load(); p.admit {
		t.p = p
	} else if p.forced {
		return v, b.reject(p.err)
	} else if t, err = b.allowSlow(p); err != nil {
		return v, err
	}
	defer func() {
		// f or Classify panicked or called Goexit before the call was
		// reported: it failed, and its probe slot, if any, is free again.
		if t.p != nil {
			t.report(Failure)
		}
	}()
	returned := false
	// Runs first: stops a panic, so that Do returns it as an error.
	defer catch.Recover(&err, &returned)
	v, err = f(ctx)
	returned = true // from here a panic is not f's: a listener's goes on up
	if err != nil {
		// Classify is recovered as f is: its panic is Do's error, and the
		// call a failure.
		o := Failure
		if perr := catch.Call(func() error { o = b.classifyCall(ctx, err); return nil }); perr != nil {
			var zero T
			v, err, o = zero, perr, Failure
		}
		t.report(o)
		return v, err
	}
	if p := t.p; p.quick {
		t.p = nil
		p.succeeded()
		return v, nil
	}
	t.report(Success)
	return v, nil
}

// State returns the breaker's state now, first applying any change that
// time alone has made due and delivering its event.
func (b *Breaker) State() State {
	// Closed or forced: two atomic loads, and the lock only to deliver
	// events a panicking listener left behind. Otherwise a clock read,
	// and the lock if a change is due.
	p := b.cur.Load()
	switch {
	case p.state == Closed || p.forced:
	case p.state == Open && b.now() < p.until:
	default:
		b.mu.Lock()
		b.advanceLocked(b.now())
		s := b.cur.Load().state
		b.mu.Unlock()
		b.deliver()
		return s
	}
	if atomic.LoadUint32(&b.stranded) != 0 {
		b.deliver() // events a panicking listener left behind
	}
	return p.state
}

// Stats is a snapshot of a [Breaker], returned by [Breaker.Stats].
type Stats struct {
	State  State // as [Breaker.State] would report it
	Forced bool  // opened by [Breaker.ForceOpen]

	// Successes (slow ones included), Failures and Slow count the current
	// window of a closed breaker with [CountWindow] or [TimeWindow].
	Successes, Failures, Slow int
	// ConsecutiveFailures is a closed breaker's current run of failures.
	ConsecutiveFailures int

	// ProbesInFlight and ProbeSuccesses count this half-open period's
	// probes not yet reported and those that succeeded.
	ProbesInFlight, ProbeSuccesses int
	// OpenRemaining is how long until an open breaker admits probes; 0
	// when forced.
	OpenRemaining time.Duration

	Rejected uint64 // calls rejected since New
	Ignored  uint64 // results classified [Ignore] since New
}

// String formats s as lowercase name=value pairs in field order, multi-word
// names in snake_case: "state=closed forced=false successes=3 … rejected=0
// ignored=0".
func (s Stats) String() string {
	return fmt.Sprintf("state=%v forced=%t successes=%d failures=%d slow=%d consecutive_failures=%d probes_in_flight=%d probe_successes=%d open_remaining=%v rejected=%d ignored=%d",
		s.State, s.Forced, s.Successes, s.Failures, s.Slow, s.ConsecutiveFailures,
		s.ProbesInFlight, s.ProbeSuccesses, s.OpenRemaining, s.Rejected, s.Ignored)
}

// Stats returns a snapshot of the breaker, after applying any change time has
// made due, as [Breaker.State] does.
func (b *Breaker) Stats() Stats {
	// Briefly under the lock; the closed-state call path never waits on it.
	b.mu.Lock()
	now := b.now()
	b.advanceLocked(now)
	p := b.cur.Load()
	s := Stats{
		State:    p.state,
		Forced:   p.forced,
		Rejected: atomic.LoadUint64(&b.rejected),
		Ignored:  b.ignored.Load(),
	}
	switch p.state {
	case Closed:
		c := b.counts(p, now)
		s.Successes, s.Failures, s.Slow = c.calls-c.failures, c.failures, c.slow
		s.ConsecutiveFailures = int(p.consec.Load())
	case Open:
		if !p.forced {
			s.OpenRemaining = time.Duration(p.until - now)
		}
	case HalfOpen:
		s.ProbesInFlight, s.ProbeSuccesses = p.inFlight, p.successes
	}
	b.mu.Unlock()
	b.deliver()
	return s
}

// ForceOpen opens the breaker until [Breaker.Reset]: every call is rejected
// with an [*OpenError] whose Forced is set, and results of calls in flight are
// ignored. It does nothing on a forced breaker.
func (b *Breaker) ForceOpen() {
	b.mu.Lock()
	now := b.now()
	b.advanceLocked(now)
	if !b.cur.Load().forced {
		b.setLocked(b.forcedPeriod(), ReasonForced, now)
	}
	b.mu.Unlock()
	b.deliver()
}

// Reset closes the breaker, whatever its state, with an empty window and the
// open time back at [OpenFor]; results of calls admitted before are ignored.
// It delivers an event unless the breaker was closed.
func (b *Breaker) Reset() {
	b.mu.Lock()
	now := b.now()
	b.advanceLocked(now)
	b.setLocked(b.closedPeriod(now), ReasonReset, now)
	b.mu.Unlock()
	b.deliver()
}
