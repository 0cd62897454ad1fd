package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/breaker"
	"pgregory.net/rapid"
)

var errFail = errors.New("dependency failed")

// The reference model: a breaker with no concurrency, written for clarity.
// Times are nanoseconds since the breaker was created.

const (
	recSuccess = iota + 1
	recSlow
	recFailure
)

type modelConfig struct {
	consecutive  int // 0: rule off
	window       string
	size         int
	span         int64
	buckets      int
	rate         float64
	minCalls     int
	slowAfter    int64 // 0: rule off
	slowRate     float64
	openFor      int64
	factor       float64
	openMax      int64
	probes       int
	toClose      int
	probeTimeout int64
}

type record struct {
	at   int64
	kind int
}

type modelLease struct {
	id      uint64
	expires int64
}

type modelEvent struct {
	from, to breaker.State
	reason   breaker.Reason
	at       int64
}

type model struct {
	cfg modelConfig

	gen       int // bumped by every state change and reset
	state     breaker.State
	forced    bool
	until     int64
	reopens   int
	consec    int
	records   []record
	leases    []modelLease
	successes int
	nextLease uint64

	events            []modelEvent
	rejected, ignored uint64
	slow              uint64 // successes counted as slow, probes included
}

func (m *model) set(to breaker.State, reason breaker.Reason, at int64) {
	if !(m.state == breaker.Closed && to == breaker.Closed) {
		m.events = append(m.events, modelEvent{from: m.state, to: to, reason: reason, at: at})
	}
	m.gen++
	m.state = to
	m.forced = false
	m.consec = 0
	m.records = nil
	m.leases = nil
	m.successes = 0
}

func (m *model) open(reopens int, reason breaker.Reason, at int64) {
	d := float64(m.cfg.openFor)
	for i := 0; i < reopens && d < float64(m.cfg.openMax); i++ {
		d *= m.cfg.factor
	}
	d = min(d, float64(m.cfg.openMax))
	m.set(breaker.Open, reason, at)
	m.until = at + int64(d)
	m.reopens = reopens
}

func (m *model) advance(now int64) {
	for {
		switch {
		case m.state == breaker.Open && !m.forced && now >= m.until:
			reopens := m.reopens
			m.set(breaker.HalfOpen, breaker.ReasonOpenElapsed, m.until)
			m.reopens = reopens
		case m.state == breaker.HalfOpen && len(m.leases) > 0:
			expires := m.leases[0].expires
			for _, l := range m.leases {
				expires = min(expires, l.expires)
			}
			if now < expires {
				return
			}
			m.open(m.reopens+1, breaker.ReasonProbeTimeout, expires)
		default:
			return
		}
	}
}

// modelTicket is what the model remembers of an admitted call.
type modelTicket struct {
	gen   int
	probe bool
	lease uint64
	start int64
}

// allow returns the admitted call, or ok = false and whether the rejection
// is for want of a probe slot.
func (m *model) allow(now int64) (t modelTicket, ok, tooMany bool) {
	m.advance(now)
	switch {
	case m.state == breaker.Closed:
		return modelTicket{gen: m.gen, start: now}, true, false
	case m.state == breaker.HalfOpen && len(m.leases) < m.cfg.probes:
		m.nextLease++
		m.leases = append(m.leases, modelLease{id: m.nextLease, expires: now + m.cfg.probeTimeout})
		return modelTicket{gen: m.gen, probe: true, lease: m.nextLease, start: now}, true, false
	}
	m.rejected++
	return modelTicket{}, false, m.state == breaker.HalfOpen
}

type modelCounts struct{ calls, failures, slow int }

func (m *model) counts(now int64) modelCounts {
	var c modelCounts
	for i, r := range m.records {
		switch m.cfg.window {
		case "count":
			if i < len(m.records)-m.cfg.size {
				continue
			}
		case "time":
			if r.at/m.cfg.span <= now/m.cfg.span-int64(m.cfg.buckets) {
				continue
			}
		}
		c.calls++
		switch r.kind {
		case recFailure:
			c.failures++
		case recSlow:
			c.slow++
		}
	}
	return c
}

func (c modelCounts) trips(part int, rate float64, minCalls int) bool {
	return c.calls >= minCalls && c.calls > 0 && float64(part)/float64(c.calls) >= rate
}

// report applies outcome o of t at now and reports whether it counted.
func (m *model) report(t modelTicket, o breaker.Outcome, now int64) bool {
	m.advance(now)
	if t.gen != m.gen {
		return false
	}
	if t.probe {
		i := -1
		for j, l := range m.leases {
			if l.id == t.lease {
				i = j
			}
		}
		if i < 0 {
			return false
		}
		m.leases = append(m.leases[:i], m.leases[i+1:]...)
		switch {
		case o == breaker.Ignore:
			m.ignored++
		case o == breaker.Failure:
			m.open(m.reopens+1, breaker.ReasonProbeFailed, now)
		case m.cfg.slowAfter > 0 && now-t.start > m.cfg.slowAfter:
			m.slow++
			m.open(m.reopens+1, breaker.ReasonProbeSlow, now)
		default:
			m.successes++
			if m.successes >= m.cfg.toClose {
				m.set(breaker.Closed, breaker.ReasonProbesSucceeded, now)
			}
		}
		return true
	}
	switch o {
	case breaker.Ignore:
		m.ignored++
	case breaker.Success:
		m.consec = 0
		if m.cfg.window == "" {
			return true
		}
		if m.cfg.slowAfter > 0 && now-t.start > m.cfg.slowAfter {
			m.slow++
			m.records = append(m.records, record{now, recSlow})
			if c := m.counts(now); c.trips(c.slow, m.cfg.slowRate, m.cfg.minCalls) {
				m.open(0, breaker.ReasonSlowCallRate, now)
			}
			return true
		}
		m.records = append(m.records, record{now, recSuccess})
	case breaker.Failure:
		if m.cfg.consecutive > 0 {
			m.consec++
			if m.consec >= m.cfg.consecutive {
				m.open(0, breaker.ReasonConsecutiveFailures, now)
				return true
			}
		}
		if m.cfg.window == "" {
			return true
		}
		m.records = append(m.records, record{now, recFailure})
		if c := m.counts(now); c.trips(c.failures, m.cfg.rate, m.cfg.minCalls) {
			m.open(0, breaker.ReasonFailureRate, now)
		}
	}
	return true
}

func (m *model) forceOpen(now int64) {
	m.advance(now)
	if !m.forced {
		m.set(breaker.Open, breaker.ReasonForced, now)
		m.forced = true
	}
}

func (m *model) reset(now int64) {
	m.advance(now)
	m.set(breaker.Closed, breaker.ReasonReset, now)
	m.reopens = 0
}

func (m *model) stats(now int64) breaker.Stats {
	m.advance(now)
	s := breaker.Stats{State: m.state, Forced: m.forced, Rejected: m.rejected, Ignored: m.ignored}
	switch m.state {
	case breaker.Closed:
		c := m.counts(now)
		s.Successes, s.Failures, s.Slow = c.calls-c.failures, c.failures, c.slow
		s.ConsecutiveFailures = m.consec
	case breaker.Open:
		if !m.forced {
			s.OpenRemaining = time.Duration(m.until - now)
		}
	case breaker.HalfOpen:
		s.ProbesInFlight, s.ProbeSuccesses = len(m.leases), m.successes
	}
	return s
}

// machine runs a Breaker and the model side by side inside a synctest
// bubble, where time moves only when the machine sleeps.
type machine struct {
	b    *breaker.Breaker
	m    *model
	base time.Time

	out      []*heldTicket // admitted, not reported
	reported []*heldTicket // reported, kept to report again
	got      []breaker.Event

	// Counted by the OnReject and OnSlowCall hooks, when hooked.
	hooked          bool
	rejects, slowed uint64
}

type heldTicket struct {
	t breaker.Ticket
	m modelTicket
}

func drawConfig(t *rapid.T) (modelConfig, []breaker.Option) {
	var c modelConfig
	var opts []breaker.Option
	c.window = rapid.SampledFrom([]string{"", "count", "time"}).Draw(t, "window")
	switch c.window {
	case "":
		c.consecutive = rapid.IntRange(1, 4).Draw(t, "consecutive")
		opts = append(opts, breaker.ConsecutiveFailures(c.consecutive))
	case "count":
		c.size = rapid.IntRange(1, 8).Draw(t, "size")
		opts = append(opts, breaker.CountWindow(c.size))
	case "time":
		c.buckets = rapid.IntRange(1, 5).Draw(t, "buckets")
		c.span = int64(rapid.SampledFrom([]time.Duration{10 * time.Millisecond, 100 * time.Millisecond}).Draw(t, "span"))
		opts = append(opts, breaker.TimeWindow(time.Duration(c.span)*time.Duration(c.buckets), c.buckets))
	}
	if c.window != "" {
		if rapid.Bool().Draw(t, "also consecutive") {
			c.consecutive = rapid.IntRange(1, 4).Draw(t, "consecutive")
			opts = append(opts, breaker.ConsecutiveFailures(c.consecutive))
		}
		c.rate = rapid.SampledFrom([]float64{0.25, 0.5, 0.75, 1}).Draw(t, "rate")
		c.minCalls = rapid.IntRange(1, 6).Draw(t, "minCalls")
		if c.window == "count" {
			c.minCalls = min(c.minCalls, c.size)
		}
		opts = append(opts, breaker.FailureRate(c.rate), breaker.MinCalls(c.minCalls))
		if rapid.Bool().Draw(t, "slow rule") {
			c.slowAfter = int64(20 * time.Millisecond)
			c.slowRate = rapid.SampledFrom([]float64{0.25, 0.5, 1}).Draw(t, "slowRate")
			opts = append(opts, breaker.SlowCall(time.Duration(c.slowAfter), c.slowRate))
		}
	}
	c.openFor = int64(rapid.SampledFrom([]time.Duration{100 * time.Millisecond, time.Second}).Draw(t, "openFor"))
	opts = append(opts, breaker.OpenFor(time.Duration(c.openFor)))
	c.factor, c.openMax = 1, c.openFor
	if rapid.Bool().Draw(t, "backoff") {
		c.factor = rapid.SampledFrom([]float64{1.5, 2}).Draw(t, "factor")
		c.openMax = c.openFor * int64(rapid.IntRange(1, 5).Draw(t, "max/openFor"))
		opts = append(opts, breaker.OpenBackoff(c.factor, time.Duration(c.openMax)))
	}
	c.probes = rapid.IntRange(1, 3).Draw(t, "probes")
	c.toClose = rapid.IntRange(1, 4).Draw(t, "toClose")
	c.probeTimeout = int64(rapid.SampledFrom([]time.Duration{50 * time.Millisecond, 500 * time.Millisecond, 3 * time.Second}).Draw(t, "probeTimeout"))
	opts = append(opts,
		breaker.HalfOpenProbes(c.probes),
		breaker.SuccessesToClose(c.toClose),
		breaker.ProbeTimeout(time.Duration(c.probeTimeout)),
		breaker.Name("m"),
	)
	return c, opts
}

func newMachine(t *rapid.T) *machine {
	cfg, opts := drawConfig(t)
	mc := &machine{m: &model{cfg: cfg}}
	opts = append(opts, breaker.OnStateChange(func(e breaker.Event) { mc.got = append(mc.got, e) }))
	// Without the hooks, a forced-open breaker rejects on Run's inlined
	// path; with them, on the slower one. Both are checked.
	if mc.hooked = rapid.Bool().Draw(t, "hooked"); mc.hooked {
		opts = append(opts,
			breaker.OnReject(func(*breaker.OpenError) { mc.rejects++ }),
			breaker.OnSlowCall(func(took time.Duration) {
				if took <= time.Duration(mc.m.cfg.slowAfter) {
					panic(fmt.Sprintf("OnSlowCall(%v) under the threshold %v", took, time.Duration(mc.m.cfg.slowAfter)))
				}
				mc.slowed++
			}))
	}
	mc.b = breaker.New(opts...)
	mc.base = time.Now() // the bubble's clock stands still until the machine sleeps
	return mc
}

func (mc *machine) now() int64 { return int64(time.Since(mc.base)) }

func (mc *machine) checkRejection(t *rapid.T, err error, tooMany bool) {
	t.Helper()
	var oe *breaker.OpenError
	if !errors.As(err, &oe) || !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("rejection error %v (%T) is not an *OpenError matching ErrOpen", err, err)
	}
	if got := errors.Is(err, breaker.ErrTooManyProbes); got != tooMany {
		t.Fatalf("errors.Is(%v, ErrTooManyProbes) = %v, want %v", err, got, tooMany)
	}
	if oe.Name != "m" || oe.Forced != mc.m.forced {
		t.Fatalf("OpenError %+v, want name m and forced %v", oe, mc.m.forced)
	}
	if tooMany {
		// A slot frees up by the end of the first lease at the latest.
		limit := mc.m.cfg.openFor
		for _, l := range mc.m.leases {
			limit = min(limit, l.expires-mc.now())
		}
		if got := oe.RetryAfter(); got <= 0 || got > time.Duration(max(limit, 1)) {
			t.Fatalf("half-open RetryAfter() = %v, want within (0, %v]", got, time.Duration(max(limit, 1)))
		}
	}
	if !tooMany && !mc.m.forced {
		if want := mc.base.Add(time.Duration(mc.m.until)); !oe.Until.Equal(want) {
			t.Fatalf("OpenError.Until = %v, want %v", oe.Until, want)
		}
		if got, want := oe.RetryAfter(), time.Duration(mc.m.until-mc.now()); got != want {
			t.Fatalf("RetryAfter() = %v, want %v", got, want)
		}
	}
}

func (mc *machine) Allow(t *rapid.T) {
	tk, err := mc.b.Allow()
	mt, ok, tooMany := mc.m.allow(mc.now())
	if (err == nil) != ok {
		t.Fatalf("Allow() error = %v, model admits: %v", err, ok)
	}
	if !ok {
		mc.checkRejection(t, err, tooMany)
		return
	}
	if tk.Probe() != mt.probe {
		t.Fatalf("Ticket.Probe() = %v, model says %v", tk.Probe(), mt.probe)
	}
	mc.out = append(mc.out, &heldTicket{t: tk, m: mt})
}

func (mc *machine) pick(t *rapid.T, from []*heldTicket) int {
	if len(from) == 0 {
		t.Skip("no ticket")
	}
	return rapid.IntRange(0, len(from)-1).Draw(t, "ticket")
}

// report reports outcome o of a ticket held, through Done with a matching
// error or through Report. A report of a ticket from an earlier generation
// must not change anything the breaker shows. (Only tickets already stale
// are checked that way: taking a snapshot first would bring the breaker up to
// date with the clock, and hide a report that should have found its lease
// expired.)
func (mc *machine) report(t *rapid.T, o breaker.Outcome) {
	i := mc.pick(t, mc.out)
	h := mc.out[i]
	mc.out = append(mc.out[:i], mc.out[i+1:]...)
	mc.reported = append(mc.reported, h)

	stale := h.m.gen != mc.m.gen
	var before breaker.Stats
	events := len(mc.got)
	if stale {
		before = mc.b.Stats()
		mc.m.stats(mc.now())
		events = len(mc.got)
	}
	if rapid.Bool().Draw(t, "through Report") {
		h.t.Report(o)
	} else {
		h.t.Done([...]error{breaker.Success: nil, breaker.Failure: errFail, breaker.Ignore: context.Canceled}[o])
	}
	counted := mc.m.report(h.m, o, mc.now())
	if stale && counted {
		t.Fatalf("the model counted a stale report")
	}
	if stale {
		if after := mc.b.Stats(); after != before || len(mc.got) != events {
			t.Fatalf("a stale %v report changed the breaker: stats %+v → %+v, %d new events", o, before, after, len(mc.got)-events)
		}
	}
}

func (mc *machine) ReportSuccess(t *rapid.T) { mc.report(t, breaker.Success) }
func (mc *machine) ReportFailure(t *rapid.T) { mc.report(t, breaker.Failure) }
func (mc *machine) ReportIgnore(t *rapid.T)  { mc.report(t, breaker.Ignore) }

// ReportLate lets time pass and then reports, with no check in between to
// bring the breaker up to date: past the slow-call threshold, past the probe
// lease, or past the open time.
func (mc *machine) ReportLate(t *rapid.T) {
	if len(mc.out) == 0 {
		t.Skip("no ticket")
	}
	time.Sleep(rapid.SampledFrom([]time.Duration{
		30 * time.Millisecond,
		time.Duration(mc.m.cfg.probeTimeout),
		time.Duration(mc.m.cfg.openFor),
	}).Draw(t, "late by"))
	mc.report(t, rapid.SampledFrom([]breaker.Outcome{breaker.Success, breaker.Failure, breaker.Ignore}).Draw(t, "outcome"))
}

// ReportAgain reports a ticket a second time: it must change nothing.
func (mc *machine) ReportAgain(t *rapid.T) {
	h := mc.reported[mc.pick(t, mc.reported)]
	before := mc.b.Stats()
	mc.m.stats(mc.now())
	events := len(mc.got)
	h.t.Done(errFail)
	h.t.Report(breaker.Failure)
	if after := mc.b.Stats(); after != before || len(mc.got) != events {
		t.Fatalf("a second report changed the breaker: stats %+v → %+v", before, after)
	}
}

// Lose forgets a ticket without reporting it.
func (mc *machine) Lose(t *rapid.T) {
	i := mc.pick(t, mc.out)
	mc.out = append(mc.out[:i], mc.out[i+1:]...)
}

// Run calls through Run or Do with a function that succeeds, fails, panics,
// or returns context.Canceled with its context cancelled or not. A panic
// comes back from Do as an error and from Run as the same panic.
func (mc *machine) Run(t *rapid.T) {
	kind := rapid.SampledFrom([]string{"ok", "fail", "panic", "canceled", "own cancel"}).Draw(t, "kind")
	viaDo := rapid.Bool().Draw(t, "via Do")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	called := false
	f := func(ctx context.Context) (int, error) {
		called = true
		switch kind {
		case "fail":
			return 0, errFail
		case "panic":
			panic(errFail)
		case "canceled":
			return 0, context.Canceled // not the caller's: a failure
		case "own cancel":
			cancel()
			return 0, ctx.Err() // the caller's: ignored
		}
		return 42, nil
	}
	var v int
	var err error
	var recovered any
	if viaDo {
		v, err = breaker.Do(ctx, mc.b, f)
	} else {
		func() {
			defer func() { recovered = recover() }()
			err = mc.b.Run(ctx, func(ctx context.Context) error { _, err := f(ctx); return err })
		}()
	}
	now := mc.now()
	mt, ok, tooMany := mc.m.allow(now)
	if called != ok {
		t.Fatalf("%s called f = %v, model admits: %v", kind, called, ok)
	}
	if !ok {
		mc.checkRejection(t, err, tooMany)
		return
	}
	o := map[string]breaker.Outcome{"ok": breaker.Success, "fail": breaker.Failure, "panic": breaker.Failure,
		"canceled": breaker.Failure, "own cancel": breaker.Ignore}[kind]
	mc.m.report(mt, o, now)
	var pe *weft.PanicError
	switch {
	case kind == "panic" && viaDo && (!errors.As(err, &pe) || !errors.Is(err, errFail)):
		t.Fatalf("a call panicking in Do returned %v, want a *weft.PanicError wrapping %v", err, errFail)
	case kind == "panic" && !viaDo && recovered != errFail:
		t.Fatalf("a call panicking in Run let through %v, want its own panic", recovered)
	case kind != "panic" && recovered != nil:
		t.Fatalf("Run panicked with %v", recovered)
	case kind == "ok" && (err != nil || viaDo && v != 42):
		t.Fatalf("a good call returned %v, %v", v, err)
	case kind == "fail" && err != errFail:
		t.Fatalf("a failing call returned %v, want %v", err, errFail)
	}
}

func (mc *machine) Sleep(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{
		time.Millisecond,
		10 * time.Millisecond,
		time.Duration(mc.m.cfg.span),
		time.Duration(mc.m.cfg.openFor) / 2,
		time.Duration(mc.m.cfg.openFor),
		time.Duration(mc.m.cfg.probeTimeout),
		time.Duration(rapid.Int64Range(0, 2*mc.m.cfg.openFor).Draw(t, "ns")),
	}).Draw(t, "sleep")
	time.Sleep(d)
}

func (mc *machine) ForceOpen(t *rapid.T) {
	mc.b.ForceOpen()
	mc.m.forceOpen(mc.now())
}

func (mc *machine) Reset(t *rapid.T) {
	mc.b.Reset()
	mc.m.reset(mc.now())
}

// Check runs after every action.
func (mc *machine) Check(t *rapid.T) {
	now := mc.now()
	if got, want := mc.b.State(), func() breaker.State { mc.m.advance(now); return mc.m.state }(); got != want {
		t.Fatalf("State() = %v, model says %v", got, want)
	}
	got, want := mc.b.Stats(), mc.m.stats(now)
	if got != want {
		t.Fatalf("Stats() = %+v\nmodel says %+v", got, want)
	}
	if got.ProbesInFlight > mc.m.cfg.probes {
		t.Fatalf("%d probes in flight, at most %d allowed", got.ProbesInFlight, mc.m.cfg.probes)
	}
	if mc.hooked && (mc.rejects != got.Rejected || mc.slowed != mc.m.slow) {
		t.Fatalf("OnReject saw %d rejections, Stats %d; OnSlowCall saw %d slow calls, model %d", mc.rejects, got.Rejected, mc.slowed, mc.m.slow)
	}
	if len(mc.got) != len(mc.m.events) {
		t.Fatalf("%d events delivered, model has %d: %v", len(mc.got), len(mc.m.events), mc.got)
	}
	for i, e := range mc.got {
		w := mc.m.events[i]
		if e.From != w.from || e.To != w.to || e.Reason != w.reason || !e.At.Equal(mc.base.Add(time.Duration(w.at))) || e.Name != "m" {
			t.Fatalf("event %d = %v at %v, model says %v → %v (%v) at %v", i, e, e.At.Sub(mc.base), w.from, w.to, w.reason, time.Duration(w.at))
		}
		if !allowedEdge(e) {
			t.Fatalf("event %d: %v is not a transition of the state machine", i, e)
		}
		if i > 0 && (e.From != mc.got[i-1].To || e.At.Before(mc.got[i-1].At)) {
			t.Fatalf("event %d (%v at %v) does not follow event %d (%v at %v)", i, e, e.At, i-1, mc.got[i-1], mc.got[i-1].At)
		}
	}
	if n := len(mc.got); n > 0 && mc.got[n-1].To != got.State {
		t.Fatalf("the last event goes to %v, State() is %v", mc.got[n-1].To, got.State)
	}
}

// actions returns the machine's actions for Repeat, each under as many
// names as its weight, so that ForceOpen (which holds the breaker open until
// a Reset) does not crowd out the rest. With check false it leaves out the
// check, for runs that only collect what happened.
func (mc *machine) actions(check bool) map[string]func(*rapid.T) {
	weighted := []struct {
		name   string
		weight int
		f      func(*rapid.T)
	}{
		{"Allow", 8, mc.Allow},
		{"ReportSuccess", 8, mc.ReportSuccess},
		{"ReportFailure", 5, mc.ReportFailure},
		{"ReportIgnore", 2, mc.ReportIgnore},
		{"ReportLate", 3, mc.ReportLate},
		{"ReportAgain", 2, mc.ReportAgain},
		{"Lose", 2, mc.Lose},
		{"Run", 4, mc.Run},
		{"Sleep", 6, mc.Sleep},
		{"ForceOpen", 1, mc.ForceOpen},
		{"Reset", 2, mc.Reset},
	}
	actions := map[string]func(*rapid.T){}
	for _, a := range weighted {
		for i := range a.weight {
			actions[fmt.Sprintf("%s#%d", a.name, i)] = a.f
		}
	}
	if check {
		actions[""] = mc.Check
	}
	return actions
}

// repeat runs Repeat rounds times: one Repeat runs about 30 actions
// (-rapid.steps), too few to go round the state machine several times.
func (mc *machine) repeat(t *rapid.T, rounds int, actions map[string]func(*rapid.T)) {
	for range rounds {
		t.Repeat(actions)
	}
}

func allowedEdge(e breaker.Event) bool {
	type edge struct {
		from, to breaker.State
		reason   breaker.Reason
	}
	switch (edge{e.From, e.To, e.Reason}) {
	case edge{breaker.Closed, breaker.Open, breaker.ReasonConsecutiveFailures},
		edge{breaker.Closed, breaker.Open, breaker.ReasonFailureRate},
		edge{breaker.Closed, breaker.Open, breaker.ReasonSlowCallRate},
		edge{breaker.Open, breaker.HalfOpen, breaker.ReasonOpenElapsed},
		edge{breaker.HalfOpen, breaker.Open, breaker.ReasonProbeFailed},
		edge{breaker.HalfOpen, breaker.Open, breaker.ReasonProbeSlow},
		edge{breaker.HalfOpen, breaker.Open, breaker.ReasonProbeTimeout},
		edge{breaker.HalfOpen, breaker.Closed, breaker.ReasonProbesSucceeded},
		edge{breaker.Closed, breaker.Open, breaker.ReasonForced},
		edge{breaker.Open, breaker.Open, breaker.ReasonForced},
		edge{breaker.HalfOpen, breaker.Open, breaker.ReasonForced},
		edge{breaker.Open, breaker.Closed, breaker.ReasonReset},
		edge{breaker.HalfOpen, breaker.Closed, breaker.ReasonReset}:
		return true
	}
	return false
}

// TestPropertyStateMachine checks a Breaker against the model above for
// random configurations and random sequences of calls, reports (good, bad,
// ignored, slow, late, repeated, stale, lost), panics, sleeps, ForceOpen and Reset.
// After every step the state, the window counts, the probes in flight and
// every event delivered must equal the model's, and the events must chain.
func TestPropertyStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rapid.SyncTest(t, func(t *rapid.T) {
			mc := newMachine(t)
			mc.repeat(t, 10, mc.actions(true))
		})
	})
}

// TestPropertyModelReachesEveryTransition keeps the state-machine test
// honest: its actions must drive the breaker through every transition, or
// agreement with the model would prove little. Some transitions (a slow
// probe) need a rare run of draws, so it tries up to ten rounds of runs
// before it gives up on one.
func TestPropertyModelReachesEveryTransition(t *testing.T) {
	want := []string{
		"closed→open consecutive failures",
		"closed→open failure rate",
		"closed→open slow-call rate",
		"open→half-open open time elapsed",
		"half-open→open probe failed",
		"half-open→open probe slow",
		"half-open→open probe timed out",
		"half-open→closed probes succeeded",
		"open→closed reset",
	}
	seen := map[string]bool{}
	missing := func() []string {
		var m []string
		for _, w := range want {
			if !seen[w] {
				m = append(m, w)
			}
		}
		return m
	}
	for round := 0; round < 10 && len(missing()) > 0; round++ {
		rapid.Check(t, func(t *rapid.T) {
			rapid.SyncTest(t, func(t *rapid.T) {
				mc := newMachine(t)
				mc.repeat(t, 10, mc.actions(false))
				for _, e := range mc.got {
					seen[fmt.Sprintf("%v→%v %v", e.From, e.To, e.Reason)] = true
				}
			})
		})
	}
	if m := missing(); len(m) > 0 {
		t.Fatalf("no run produced %q; seen %v", m, seen)
	}
}
