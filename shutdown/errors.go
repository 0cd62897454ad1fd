package shutdown

import (
	"errors"
	"fmt"
)

// ErrExited is the error of a component whose Start returned nil after
// [MarkReady] without being asked to stop. It ends Run.
var ErrExited = errors.New("shutdown: component exited on its own")

// ErrAbandoned is the error of a Stop, a Start after its Stop, or an [OnStop]
// call still running when its budget ran out; its goroutine may outlive Run.
var ErrAbandoned = errors.New("shutdown: stop did not finish within its budget")

// ErrRunTwice is returned by a second call to [Group.Run].
var ErrRunTwice = errors.New("shutdown: Run called twice")

// StartError reports a component whose Start failed or ended on its own
// ([ErrExited]).
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

// StopError reports a component whose Stop failed, panicked or overran its
// budget ([ErrAbandoned]).
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
// still starting when shutdown began.
var ErrInterrupted = errors.New("shutdown: shutdown began before the component was ready")
