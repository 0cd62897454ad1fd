package retry

import "time"

// signal is the marker that Permanent and After wrap an error in. It is
// unexported and adds nothing to the message, and the policy removes it
// from the error it returns, so callers never see it.
type signal struct {
	err       error
	delay     time.Duration
	permanent bool
}

func (s *signal) Error() string { return s.err.Error() }
func (s *signal) Unwrap() error { return s.err }

// Permanent marks err as not worth retrying: the policy gives up at once,
// whatever its classifier says, with Cause [ErrNotRetryable]. The policy finds
// the marker even when it is wrapped; the marker adds nothing to the message,
// and [errors.Is] and [errors.As] find err through it. It wins over [After];
// Permanent(nil) returns nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &signal{err: err, permanent: true}
}

// After marks err as retryable after d, as a server's Retry-After asks,
// whatever the classifier says. d is a floor (see the package Rules), past
// the backoff's cap if need be but within the attempt limit, [MaxElapsed],
// the deadline and the [Budget]. It uses up an attempt; a negative d counts
// as zero, and After(nil, d) is nil.
func After(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &signal{err: err, delay: max(d, 0)}
}

// retryAfterer is implemented by errors that say when the call may succeed
// again, such as an open circuit breaker's. See HonorRetryAfter.
type retryAfterer interface {
	error
	RetryAfter() time.Duration
}

// verdict is what an error's chain asks of the policy.
type verdict struct {
	permanent bool          // a Permanent marker
	after     bool          // an After marker, asking for delay
	delay     time.Duration //
	hint      retryAfterer  // the first error with a RetryAfter method
}

// read returns what err's chain asks for, and err without the markers at
// its top.
func read(err error) (v verdict, last error) {
	last = err
	for {
		s, ok := last.(*signal)
		if !ok {
			break
		}
		last = s.err
	}
	v.walk(err)
	return v, last
}

// walk looks at every error in err's tree, depth first as errors.As does,
// and reports whether it found a Permanent marker, which ends the walk. It
// is one type switch per error: errors.AsType with an interface type costs
// several times more, and most errors match no case.
func (v *verdict) walk(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *signal:
			if e.permanent {
				v.permanent = true
				return true
			}
			if !v.after {
				v.after, v.delay = true, e.delay
			}
			err = e.err
		case interface{ Unwrap() error }:
			v.hinted(err)
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			v.hinted(err)
			for _, e := range e.Unwrap() {
				if v.walk(e) {
					return true
				}
			}
			return false
		default:
			v.hinted(err)
			return false
		}
	}
	return false
}

// hinted records err as the hint if it is the first error with a
// RetryAfter method.
func (v *verdict) hinted(err error) {
	if v.hint == nil {
		v.hint, _ = err.(retryAfterer)
	}
}
