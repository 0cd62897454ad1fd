package jetstream

import (
	"fmt"
	"sync"

	"github.com/weftgo/weft/internal/catch"
)

// reporter hands errors that belong to no job to the OnError hook, and
// keeps the hook's panics for whoever joins the goroutines that called it.
type reporter struct {
	hook   func(error)
	mu     sync.Mutex
	panics []error
}

// report calls the hook with err, prefixed with what failed, if both are
// set.
func (r *reporter) report(op string, err error) {
	if err == nil || r.hook == nil {
		return
	}
	if perr := catch.Call(func() error { r.hook(fmt.Errorf("jetstream: %s: %w", op, err)); return nil }); perr != nil {
		r.keep(perr)
	}
}

func (r *reporter) keep(perr error) {
	r.mu.Lock()
	r.panics = append(r.panics, perr)
	r.mu.Unlock()
}

func (r *reporter) taken() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.panics
}
