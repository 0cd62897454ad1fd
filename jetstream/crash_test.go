package jetstream_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamBodies returns the body of every message in stream name.
func streamBodies(t *testing.T, js jetstream.JetStream, name string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	var out []string
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		require.NoError(t, err)
		out = append(out, string(m.Data))
	}
	return out
}

func streamCount(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		return 0
	}
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

// TestNoJobLostWhenAWorkerProcessIsKilled runs a producer and three worker
// processes against one server, kills one worker with SIGKILL while it
// runs jobs, and accounts for every job: each ends in the done stream or
// the dead letters, never both, and only jobs the killed worker held may
// be done twice.
func TestNoJobLostWhenAWorkerProcessIsKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	bin := filepath.Join(t.TempDir(), "jobsdemo")
	build := exec.Command("go", "build", "-o", bin, "./internal/jobsdemo")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	srv := startServer(t)
	js := newJS(t, srv)
	q := newQueue(t, js, "crash")
	const n, perWorker, failEvery = 400, 4, 10
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"-url", srv.URL(), "-queue", "crash"}, args...)...)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		return cmd
	}
	var workers []*exec.Cmd
	for range 3 {
		workers = append(workers, start("-role", "worker", "-workers", strconv.Itoa(perWorker),
			"-work", "10ms", "-fail-every", strconv.Itoa(failEvery), "-ackwait", "1s"))
	}
	producer := start("-role", "producer", "-n", strconv.Itoa(n))

	require.Eventually(t, func() bool { return streamCount(t, js, "crash_DONE") >= n/4 }, 60*time.Second, 10*time.Millisecond)
	require.NoError(t, workers[0].Process.Signal(syscall.SIGKILL))
	require.NoError(t, producer.Wait())
	require.Eventually(t, func() bool {
		return streamCount(t, js, "crash_DONE")+streamCount(t, js, "crash_DLQ") >= n && pending(t, js, q) == 0
	}, 60*time.Second, 50*time.Millisecond)
	for _, w := range workers[1:] {
		require.NoError(t, w.Process.Signal(syscall.SIGTERM))
		require.NoError(t, w.Wait(), "a worker's Close")
	}
	_ = workers[0].Wait()

	done := map[int]int{}
	for _, b := range streamBodies(t, js, "crash_DONE") {
		i, err := strconv.Atoi(b)
		require.NoError(t, err)
		done[i]++
	}
	dead := map[int]bool{}
	for _, l := range letters(t, js, q) {
		i, err := strconv.Atoi(l.JobID)
		require.NoError(t, err)
		require.False(t, dead[i], "job %d dead-lettered twice", i)
		dead[i] = true
	}
	dups := 0
	for i := range n {
		switch {
		case i%failEvery == 0:
			assert.True(t, dead[i], "job %d should be a dead letter", i)
			assert.Zero(t, done[i], "job %d is a dead letter and done", i)
		default:
			assert.NotZero(t, done[i], "job %d lost", i)
			assert.False(t, dead[i], "job %d is done and a dead letter", i)
			dups += max(done[i]-1, 0)
		}
	}
	// Only jobs the killed worker had taken and the server had not heard
	// it finish may run twice: its perWorker running jobs, and those whose
	// acknowledgement was still in its connection's buffer, which the
	// client flushes at once, so a handful at most.
	assert.LessOrEqual(t, dups, 2*perWorker, "more jobs ran twice than the killed worker can have held")
	t.Logf("%d jobs: %d done, %d dead letters, %d done twice after the SIGKILL", n, len(done), len(dead), dups)
}
