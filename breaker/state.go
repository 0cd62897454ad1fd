package breaker

import (
	"strconv"
	"time"
)

// State is the state of a [Breaker]: [Closed], [Open] or [HalfOpen].
type State uint8

const (
	// Closed admits every call and counts outcomes against the trip rules.
	Closed State = iota
	// Open rejects every call with an [*OpenError] until its open time has
	// passed (or, after [Breaker.ForceOpen], until [Breaker.Reset]).
	Open
	// HalfOpen admits a limited number of probe calls; their outcomes decide
	// between Closed and Open.
	HalfOpen
)

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Reason says why a [Breaker] changed state.
type Reason uint8

const (
	// ReasonConsecutiveFailures: closed → open, the [ConsecutiveFailures]
	// threshold was reached.
	ReasonConsecutiveFailures Reason = iota + 1
	// ReasonFailureRate: closed → open, the [FailureRate] over the window
	// was reached.
	ReasonFailureRate
	// ReasonSlowCallRate: closed → open, the [SlowCall] rate over the window
	// was reached.
	ReasonSlowCallRate
	// ReasonOpenElapsed: open → half-open, the open time has passed.
	ReasonOpenElapsed
	// ReasonProbeFailed: half-open → open, a probe failed.
	ReasonProbeFailed
	// ReasonProbeSlow: half-open → open, a probe succeeded but took longer
	// than the [SlowCall] threshold.
	ReasonProbeSlow
	// ReasonProbeTimeout: half-open → open, a probe was not reported within
	// its [ProbeTimeout] and was counted as a failure.
	ReasonProbeTimeout
	// ReasonProbesSucceeded: half-open → closed, [SuccessesToClose] probes
	// succeeded.
	ReasonProbesSucceeded
	// ReasonForced: any state → open, [Breaker.ForceOpen] was called.
	ReasonForced
	// ReasonReset: open or half-open → closed, [Breaker.Reset] was called.
	ReasonReset
)

var reasonNames = [...]string{
	ReasonConsecutiveFailures: "consecutive failures",
	ReasonFailureRate:         "failure rate",
	ReasonSlowCallRate:        "slow-call rate",
	ReasonOpenElapsed:         "open time elapsed",
	ReasonProbeFailed:         "probe failed",
	ReasonProbeSlow:           "probe slow",
	ReasonProbeTimeout:        "probe timed out",
	ReasonProbesSucceeded:     "probes succeeded",
	ReasonForced:              "forced open",
	ReasonReset:               "reset",
}

// String returns a short lowercase description such as "failure rate".
func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Event is one state change of a [Breaker], delivered to the listener set
// with [OnStateChange].
type Event struct {
	// Name is the breaker's [Name], empty if none was set.
	Name string
	// From and To are the states before and after the change. They are equal
	// only when [Breaker.ForceOpen] is called on a breaker that is already
	// open on a timer.
	From, To State
	// Reason says what caused the change.
	Reason Reason
	// At is when the change took effect. A change that follows from the
	// passage of time (open → half-open, an expired probe lease) is noticed
	// by the first call that looks at the breaker afterwards, but At is the
	// moment it became due, so that At never depends on when anyone looked.
	At time.Time
}

// String formats the event as "name: from → to (reason)".
func (e Event) String() string {
	s := e.From.String() + " → " + e.To.String() + " (" + e.Reason.String() + ")"
	if e.Name != "" {
		s = e.Name + ": " + s
	}
	return s
}
