package breaker

import (
	"strconv"
	"time"
)

// State is the state of a [Breaker]: [Closed], [Open] or [HalfOpen].
type State uint8

const (
	// Closed admits every call and counts results against the trip rules.
	Closed State = iota
	// Open rejects every call until its open time has passed, or until
	// [Breaker.Reset] after [Breaker.ForceOpen].
	Open
	// HalfOpen admits a few probe calls, whose results decide.
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
	// closed → open: [ConsecutiveFailures] reached.
	ReasonConsecutiveFailures Reason = iota + 1
	// closed → open: [FailureRate] reached.
	ReasonFailureRate
	// closed → open: [SlowCall] rate reached.
	ReasonSlowCallRate
	// open → half-open: the open time passed.
	ReasonOpenElapsed
	// half-open → open: a probe failed.
	ReasonProbeFailed
	// half-open → open: a probe was slow (see [SlowCall]).
	ReasonProbeSlow
	// half-open → open: a probe outlived its [ProbeTimeout].
	ReasonProbeTimeout
	// half-open → closed: [SuccessesToClose] probes succeeded.
	ReasonProbesSucceeded
	// any state → open: [Breaker.ForceOpen].
	ReasonForced
	// open or half-open → closed: [Breaker.Reset].
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

// Event is one state change, delivered to [OnStateChange].
type Event struct {
	Name     string // the breaker's [Name]
	From, To State  // equal only when [Breaker.ForceOpen] finds it open
	Reason   Reason
	// At is when the change became due, even if a later call noticed it.
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
