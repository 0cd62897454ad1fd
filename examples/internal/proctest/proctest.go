// Package proctest runs an example program as a user does, for the
// examples' end-to-end tests: built once per test binary, started as a
// process of its own, stopped by real signals, its stderr waited on line by
// line.
package proctest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Program is the example program of the package under test, built on first
// use into a directory of its own. Call Remove from TestMain.
type Program struct {
	Name string // the binary's name
	Race bool   // build with the race detector

	once sync.Once
	dir  string
	path string
	err  error
}

// Path returns the path of the program, building it the first time.
func (pr *Program) Path(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the end-to-end tests send SIGINT, which Windows does not have")
	}
	pr.once.Do(func() {
		if pr.dir, pr.err = os.MkdirTemp("", pr.Name+"-test"); pr.err != nil {
			return
		}
		pr.path = filepath.Join(pr.dir, pr.Name)
		args := []string{"build", "-o", pr.path}
		if pr.Race {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			pr.err = &buildError{err, out}
		}
	})
	require.NoError(t, pr.err)
	return pr.path
}

// Remove deletes the built program.
func (pr *Program) Remove() {
	if pr.dir != "" {
		os.RemoveAll(pr.dir)
	}
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + string(e.out) }

// Process is a running program whose stderr the test can wait on line by
// line.
type Process struct {
	Cmd    *exec.Cmd
	Stdout bytes.Buffer
	Stderr Lines
	Err    error // Wait's, once the program has exited

	t      *testing.T
	exited chan struct{} // closed once Wait has returned
}

// Start runs the program with args in dir ("" for the test's own); the
// test's cleanup kills it if the test ends before it exits.
func (pr *Program) Start(t *testing.T, dir string, args ...string) *Process {
	t.Helper()
	p := &Process{t: t, Cmd: exec.Command(pr.Path(t), args...), exited: make(chan struct{})}
	p.Cmd.Dir = dir
	p.Stderr.grew = make(chan struct{}, 1)
	p.Cmd.Stdout, p.Cmd.Stderr = &p.Stdout, &p.Stderr
	require.NoError(t, p.Cmd.Start())
	go func() {
		defer close(p.exited)
		p.Err = p.Cmd.Wait()
		p.Stderr.close()
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.Cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// Signal sends sig to the program.
func (p *Process) Signal(sig os.Signal) {
	p.t.Helper()
	require.NoError(p.t, p.Cmd.Process.Signal(sig))
}

// WaitLine waits until the program writes a line to stderr for which match
// is true, and returns it. The limit only bounds a test that has already
// failed; nothing waits for it to pass.
func (p *Process) WaitLine(what string, match func(line string) bool) string {
	p.t.Helper()
	limit := time.NewTimer(time.Minute)
	defer limit.Stop()
	for seen := 0; ; {
		all, closed := p.Stderr.snapshot()
		for _, line := range all[seen:] {
			if match(line) {
				return line
			}
		}
		seen = len(all)
		if closed {
			p.t.Fatalf("the program ended without writing %s; stderr:\n%s", what, strings.Join(all, "\n"))
		}
		select {
		case <-p.Stderr.grew:
		case <-limit.C:
			p.t.Fatalf("no %s on stderr after a minute; stderr:\n%s", what, strings.Join(all, "\n"))
		}
	}
}

// Wait waits for the program to exit and returns its exit status.
func (p *Process) Wait() int {
	p.t.Helper()
	limit := time.NewTimer(time.Minute)
	defer limit.Stop()
	select {
	case <-p.exited:
	case <-limit.C:
		p.t.Fatalf("the program has not exited after a minute; stderr:\n%s", &p.Stderr)
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Lines collects what the program writes, in whole lines, and wakes a
// waiter each time more arrives.
type Lines struct {
	mu      sync.Mutex
	partial []byte
	all     []string
	closed  bool
	grew    chan struct{} // one slot: many writes, one wake-up, none lost
}

func (l *Lines) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.all = append(l.all, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	l.mu.Unlock()
	l.wake()
	return len(b), nil
}

func (l *Lines) close() {
	l.mu.Lock()
	if len(l.partial) > 0 {
		l.all = append(l.all, string(l.partial))
		l.partial = nil
	}
	l.closed = true
	l.mu.Unlock()
	l.wake()
}

func (l *Lines) wake() {
	select {
	case l.grew <- struct{}{}:
	default:
	}
}

func (l *Lines) snapshot() ([]string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all[:len(l.all):len(l.all)], l.closed
}

// String returns every line written so far.
func (l *Lines) String() string {
	all, _ := l.snapshot()
	return strings.Join(all, "\n")
}
