package shutdown_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// buildSigprog builds testdata/sigprog, a small service under a Group, for
// the tests that send it real signals.
func buildSigprog(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sigprog")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/sigprog")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type proc struct {
	cmd   *exec.Cmd
	lines chan string
	exit  chan error
}

func startSigprog(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 16), exit: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.exit <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range p.lines {
		}
	})
	return p
}

func (p *proc) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case line := <-p.lines:
		if line != want {
			t.Fatalf("program printed %q, want %q", line, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("program did not print %q", want)
	}
}

func (p *proc) waitExit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-p.exit:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("program did not exit within %v", within)
		return -1
	}
}

// SIGTERM while a request is in flight: the request completes and the
// process exits 0. A Ctrl-C (SIGINT) during a stuck stop exits at once with
// 128+2; a repeated SIGTERM does not, and the process ends at its Timeout.
func TestRealSignals(t *testing.T) {
	t.Parallel()
	bin := buildSigprog(t)

	t.Run("clean", func(t *testing.T) {
		p := startSigprog(t, bin)
		addr := <-p.lines
		p.expect(t, "ready")
		type result struct {
			code int
			body string
			err  error
		}
		res := make(chan result, 1)
		go func() {
			code, body, err := get("http://" + addr + "/slow")
			res <- result{code, body, err}
		}()
		p.expect(t, "entered")
		start := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		r := <-res
		if r.err != nil || r.code != 200 || r.body != "done" {
			t.Fatalf("in-flight request: %d %q %v, want 200 done", r.code, r.body, r.err)
		}
		if code := p.waitExit(t, 5*time.Second); code != 0 {
			t.Fatalf("exit code %d, want 0", code)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("took %v to exit, past the 5s deadline", took)
		}
	})

	t.Run("second signal", func(t *testing.T) {
		p := startSigprog(t, bin, "stuck")
		<-p.lines // address
		p.expect(t, "ready")
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		p.expect(t, "stopping stuck")
		start := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := p.waitExit(t, 2*time.Second); code != 128+int(syscall.SIGINT) {
			t.Fatalf("exit code %d, want %d", code, 128+int(syscall.SIGINT))
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("took %v to exit after the second signal, want at once", took)
		}
	})

	t.Run("repeated SIGTERM", func(t *testing.T) {
		p := startSigprog(t, bin, "stuck")
		<-p.lines // address
		p.expect(t, "ready")
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		p.expect(t, "stopping stuck")
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// Not 128+15: the group goes on and gives up on the stuck
		// component at its Timeout, and main exits 1 with Run's error.
		if code := p.waitExit(t, 10*time.Second); code != 1 {
			t.Fatalf("exit code %d, want 1 from Run's error at the Timeout", code)
		}
	})
}
