package catch_test

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
)

func TestCall(t *testing.T) {
	if err := catch.Call(func() error { return nil }); err != nil {
		t.Errorf("Call(nil-returning) = %v, want nil", err)
	}
	if err := catch.Call(func() error { return io.EOF }); err != io.EOF {
		t.Errorf("Call(EOF-returning) = %v, want EOF", err)
	}
	err := catch.Call(func() error { panic("boom") })
	var pe *weft.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("Call(panicking) = %v, want *PanicError with value boom", err)
	}
	if !strings.Contains(string(pe.Stack), "TestCall") {
		t.Errorf("stack does not show where the panic happened:\n%s", pe.Stack)
	}
}

func TestCallPanicNil(t *testing.T) {
	err := catch.Call(func() error { panic(nil) })
	var pe *weft.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Call(panic(nil)) = %v, want *PanicError", err)
	}
	var pn *runtime.PanicNilError
	if !errors.As(err, &pn) {
		t.Errorf("Call(panic(nil)) = %v, want it to wrap *runtime.PanicNilError", err)
	}
}

func TestValue(t *testing.T) {
	v, err := catch.Value(func() (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Errorf("Value() = %v, %v, want 7, nil", v, err)
	}
	v, err = catch.Value(func() (int, error) { return 3, io.EOF })
	if v != 3 || err != io.EOF {
		t.Errorf("Value() = %v, %v, want 3, EOF", v, err)
	}
	v, err = catch.Value(func() (int, error) { panic(io.ErrUnexpectedEOF) })
	if v != 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Value(panicking) = %v, %v, want 0 and an error wrapping the panic value", v, err)
	}
}

func TestGuard(t *testing.T) {
	tests := []struct {
		name string
		f    func() error
		want func(error) bool
	}{
		{"nil", func() error { return nil }, func(err error) bool { return err == nil }},
		{"error", func() error { return io.EOF }, func(err error) bool { return err == io.EOF }},
		{"panic", func() error { panic("x") }, func(err error) bool {
			var pe *weft.PanicError
			return errors.As(err, &pe) && pe.Value == "x"
		}},
		{"goexit", func() error { runtime.Goexit(); return nil }, func(err error) bool { return errors.Is(err, weft.ErrGoexit) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan error, 2)
			done := make(chan struct{})
			go func() {
				defer close(done)
				catch.Guard(tt.f, func(err error) { got <- err })
			}()
			<-done
			if n := len(got); n != 1 {
				t.Fatalf("report called %d times, want 1", n)
			}
			if err := <-got; !tt.want(err) {
				t.Errorf("Guard reported %v", err)
			}
		})
	}
}

// recovering calls f the way a hot path uses Recover, and reports what the
// deferred calls after Recover saw and whether the function returned.
func recovering(f func() error) (err error, seen error, returned bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		err = func() (err error) {
			normal := false
			defer func() { seen = err }()
			defer catch.Recover(&err, &normal)
			err = f()
			normal = true
			return err
		}()
		returned = true
	}()
	<-done
	return err, seen, returned
}

func TestRecover(t *testing.T) {
	tests := []struct {
		name     string
		f        func() error
		want     func(error) bool
		returned bool
	}{
		{"nil", func() error { return nil }, func(err error) bool { return err == nil }, true},
		{"error", func() error { return io.EOF }, func(err error) bool { return err == io.EOF }, true},
		{"panic", func() error { panic("x") }, func(err error) bool {
			var pe *weft.PanicError
			return errors.As(err, &pe) && pe.Value == "x" && strings.Contains(string(pe.Stack), "TestRecover")
		}, true},
		{"goexit", func() error { runtime.Goexit(); return nil }, func(err error) bool { return errors.Is(err, weft.ErrGoexit) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, seen, returned := recovering(tt.f)
			if returned != tt.returned {
				t.Fatalf("function returned = %v, want %v", returned, tt.returned)
			}
			if !tt.want(seen) {
				t.Errorf("the deferred call after Recover saw %v", seen)
			}
			if returned && !tt.want(err) {
				t.Errorf("the function returned %v", err)
			}
		})
	}
}
