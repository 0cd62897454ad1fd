package shutdown

import (
	"errors"
	"fmt"
)

// ErrExited is the error of a component whose Start returned nil while the
// group was running, without being asked to stop: a server loop that ended
// on its own. It ends the group's Run.
var ErrExited = errors.New("shutdown: component exited on its own")

// ErrAbandoned is the error of a component whose Stop, or whose Start after
// its Stop, had not returned when its stop budget ran out, and of an
// [OnStop] hook call that had not returned when the hook's budget ran out.
// The group stops waiting for it and goes on with the next component; its
// goroutine may still be running when Run returns.
var ErrAbandoned = errors.New("shutdown: stop did not finish within its budget")

// ErrRunTwice is returned by a second call to [Group.Run].
var ErrRunTwice = errors.New("shutdown: Run called twice")

// StartError reports a component that failed to start, or that ended on its
// own while the group was running ([ErrExited], or the error its Start
// returned).
type StartError struct {
	Name string // the component's name, as given to [Group.Add]
	Err  error
}

// Error returns `shutdown: start "NAME": ` and the component's error.
func (e *StartError) Error() string {
	return fmt.Sprintf("shutdown: start %q: %v", e.Name, e.Err)
}

// Unwrap returns the component's error.
func (e *StartError) Unwrap() error { return e.Err }

// StopError reports a component whose Stop failed, panicked (a
// *weft.PanicError) or did not finish within its budget ([ErrAbandoned]).
type StopError struct {
	Name string // the component's name, as given to [Group.Add]
	Err  error
}

// Error returns `shutdown: stop "NAME": ` and the component's error.
func (e *StopError) Error() string {
	return fmt.Sprintf("shutdown: stop %q: %v", e.Name, e.Err)
}

// Unwrap returns the component's error.
func (e *StopError) Unwrap() error { return e.Err }

// ErrInterrupted is what the [OnStart] hook gets for a component that was
// still starting when shutdown began: it is stopped without having been
// ready.
var ErrInterrupted = errors.New("shutdown: shutdown began before the component was ready")
