package main

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

// The end-to-end tests run the program as a user does: built, as a process
// of its own, stopped by real signals.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string // removed by TestMain
)

// program returns the path of the program, built once per test binary, with
// the race detector when the tests run with it.
func program(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the end-to-end tests send SIGINT, which Windows does not have")
	}
	binOnce.Do(func() {
		binPath = filepath.Join(binDir, "etl")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			binErr = &buildError{err, out}
		}
	})
	require.NoError(t, binErr)
	return binPath
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + string(e.out) }

// process is a running program whose stderr the test can wait on line by
// line.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr lines
	exited chan struct{} // closed once Wait has returned
	err    error         // Wait's
}

// start runs the program with args; the test's cleanup kills it if the
// test ends before it exits.
func start(t *testing.T, args ...string) *process {
	t.Helper()
	return startIn(t, "", args...)
}

// startIn is start in the directory dir.
func startIn(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	p := &process{t: t, cmd: exec.Command(program(t), args...), exited: make(chan struct{})}
	p.cmd.Dir = dir
	p.stderr.grew = make(chan struct{}, 1)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		defer close(p.exited)
		p.err = p.cmd.Wait()
		p.stderr.close()
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// signal sends sig to the program.
func (p *process) signal(sig os.Signal) {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
}

// waitLine waits until the program writes a line to stderr for which match
// is true, and returns it. The limit only bounds a test that has already
// failed; nothing waits for it to pass.
func (p *process) waitLine(what string, match func(line string) bool) string {
	p.t.Helper()
	limit := time.NewTimer(time.Minute)
	defer limit.Stop()
	for seen := 0; ; {
		all, closed := p.stderr.snapshot()
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
		case <-p.stderr.grew:
		case <-limit.C:
			p.t.Fatalf("no %s on stderr after a minute; stderr:\n%s", what, strings.Join(all, "\n"))
		}
	}
}

// wait waits for the program to exit and returns its exit status.
func (p *process) wait() int {
	p.t.Helper()
	limit := time.NewTimer(time.Minute)
	defer limit.Stop()
	select {
	case <-p.exited:
	case <-limit.C:
		p.t.Fatalf("the program has not exited after a minute; stderr:\n%s", &p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// lines collects what the program writes, in whole lines, and wakes a
// waiter each time more arrives.
type lines struct {
	mu      sync.Mutex
	partial []byte
	all     []string
	closed  bool
	grew    chan struct{} // one slot: many writes, one wake-up, none lost
}

func (l *lines) Write(b []byte) (int, error) {
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

func (l *lines) close() {
	l.mu.Lock()
	if len(l.partial) > 0 {
		l.all = append(l.all, string(l.partial))
		l.partial = nil
	}
	l.closed = true
	l.mu.Unlock()
	l.wake()
}

func (l *lines) wake() {
	select {
	case l.grew <- struct{}{}:
	default:
	}
}

func (l *lines) snapshot() ([]string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all[:len(l.all):len(l.all)], l.closed
}

func (l *lines) String() string {
	all, _ := l.snapshot()
	return strings.Join(all, "\n")
}
