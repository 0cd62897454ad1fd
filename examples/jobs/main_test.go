package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		program.Remove()
		os.Exit(code)
	}))
}

func testConfig(t *testing.T, jobs int) (config, *bytes.Buffer) {
	dir := t.TempDir()
	var out bytes.Buffer
	return config{
		jobs:        jobs,
		seed:        7,
		workers:     32,
		queue:       64,
		attempts:    6,
		giveUpAfter: 30 * time.Second,
		deadLetters: filepath.Join(dir, "dead.jsonl"),
		notRun:      filepath.Join(dir, "notrun.jsonl"),
		rejects:     filepath.Join(dir, "rejects.jsonl"),
		drain:       10 * time.Second,
		every:       time.Second,
		log:         &bytes.Buffer{},
		out:         &out,
		latency:     200 * time.Microsecond,
		failRate:    0.1,
		brokenRate:  0.01,
		outageAfter: 50 * time.Millisecond,
		outageFor:   50 * time.Millisecond,
	}, &out
}

// readLetters returns the dead letters in a file by job id; a job in it
// twice fails the test.
func readLetters(t *testing.T, path string) map[int]letterRecord {
	t.Helper()
	letters := map[int]letterRecord{}
	for _, line := range readLines(t, path) {
		var l letterRecord
		require.NoError(t, json.Unmarshal([]byte(line), &l))
		require.NotEmpty(t, l.Errors, "dead letter %+v has no error", l)
		require.False(t, l.First.IsZero() || l.Last.Before(l.First), "dead letter %+v has wrong times", l)
		if _, ok := letters[l.Job.ID]; ok { // plain lookups: testify's Contains walks a map
			t.Fatalf("job %d dead-lettered twice in %s", l.Job.ID, path)
		}
		letters[l.Job.ID] = l
	}
	return letters
}

// readJobs returns the ids of the jobs in a JSONL file of jobs; a job in it
// twice fails the test.
func readJobs(t *testing.T, path string) map[int]bool {
	t.Helper()
	ids := map[int]bool{}
	for _, line := range readLines(t, path) {
		var j Job
		require.NoError(t, json.Unmarshal([]byte(line), &j))
		require.False(t, ids[j.ID], "job %d written twice to %s", j.ID, path)
		ids[j.ID] = true
	}
	return ids
}

// readLines returns the lines of a file; none if it does not exist.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	return lines
}

// The in-process tests run in synctest bubbles: the simulated downstream's
// latency, its outage, the breaker's open time and the retry delays all pass
// on the bubble's clock, so a loaded machine cannot change what they see.

// Every job ends succeeded or dead-lettered, and the dead-letter file holds
// exactly the dead-lettered ones.
func TestEveryJobAccountedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, out := testConfig(t, 5000)
		sum, err := run(context.Background(), cfg)
		require.NoError(t, err)
		assert.EqualValues(t, 5000, sum.total)
		assert.Equal(t, sum.total, sum.succeeded+sum.deadLettered, "succeeded + dead-lettered != total: %+v", sum)
		assert.Zero(t, sum.notRun)
		assert.NotZero(t, sum.deadLettered, "the simulated failures should cause dead letters")
		assert.NotZero(t, sum.retried, "the simulated failures should cause retries")
		assert.Len(t, readLetters(t, cfg.deadLetters), int(sum.deadLettered))
		assert.True(t, strings.HasPrefix(out.String(), "processed 5000, succeeded "), "summary line %q", out)
	})
}

// A job the breaker turns away, open or half-open, waits for the breaker
// instead of using up its attempts: through an outage no job is given up on
// because of the breaker, only for the downstream's own answers.
func TestBreakerRejectionsDoNotUseUpAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, _ := testConfig(t, 5000)
		cfg.failRate = 0.02
		cfg.outageAfter, cfg.outageFor = 20*time.Millisecond, 150*time.Millisecond
		sum, err := run(context.Background(), cfg)
		require.NoError(t, err)
		require.NotZero(t, sum.retriedBreaker, "the outage should open the breaker: %+v", sum)
		require.Equal(t, sum.total, sum.succeeded+sum.deadLettered)
		for id, l := range readLetters(t, cfg.deadLetters) {
			last := l.Errors[len(l.Errors)-1]
			assert.NotContains(t, last, "breaker:", "job %d given up on after a breaker rejection: %+v", id, l)
			if !strings.Contains(last, errRefused.Error()) {
				assert.Equal(t, cfg.attempts, l.Calls, "job %d given up on after %d downstream calls: %+v", id, l.Calls, l)
			}
		}
	})
}

// A stop mid-run drains what is in flight, writes the jobs that did not run
// to the not-run file, and returns no error: nothing is lost.
func TestStopMidRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, _ := testConfig(t, 20000)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cfg.done = func(succeeded int64) {
			if succeeded == 300 { // as a SIGTERM would
				cancel()
			}
		}
		sum, err := run(ctx, cfg)
		require.NoError(t, err)
		require.EqualValues(t, 20000, sum.total)
		require.Equal(t, sum.total, sum.succeeded+sum.deadLettered+sum.notRun, "a job was lost: %+v", sum)
		require.NotZero(t, sum.notRun, "the stop came too late to leave jobs unprocessed")
		assert.True(t, sum.stopped)
		assert.False(t, sum.aborted)
		dead := readLetters(t, cfg.deadLetters)
		notRun := readJobs(t, cfg.notRun)
		assert.Len(t, dead, int(sum.deadLettered))
		assert.Len(t, notRun, int(sum.notRun))
		for id := range notRun {
			if _, ok := dead[id]; ok {
				t.Errorf("job %d both dead-lettered and not processed", id)
			}
		}
		assert.Contains(t, cfg.log.(*bytes.Buffer).String(), "jobs: stopping: draining ")
	})
}

// The lines of -in that are not jobs go to the rejects file with their line
// numbers, and every other line is processed.
func TestInputFileWithBadLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "jobs.jsonl")
		long := `{"id":9,"payload":"` + strings.Repeat("x", maxLine) + `"}`
		require.NoError(t, os.WriteFile(in, []byte(`{"id":1,"payload":"a"}`+"\n\n"+`{"id":`+"\nnot json\n"+`{"id":2}`+"\n"+long+"\n"+`{"id":"3"}`+"\n"+`{"id":4}`), 0o600))
		cfg, out := testConfig(t, 0)
		cfg.in = in
		cfg.brokenRate, cfg.failRate, cfg.outageFor = 0, 0, 0
		sum, err := run(context.Background(), cfg)
		require.NoError(t, err)
		assert.EqualValues(t, 3, sum.total)
		assert.EqualValues(t, 3, sum.succeeded)
		assert.EqualValues(t, 4, sum.rejected)
		assert.Contains(t, out.String(), "rejected lines: 4, appended to "+cfg.rejects)

		var got []string
		for _, line := range readLines(t, cfg.rejects) {
			var r rejectRecord
			require.NoError(t, json.Unmarshal([]byte(line), &r))
			assert.Equal(t, in, r.File)
			assert.NotEmpty(t, r.Error)
			got = append(got, fmt.Sprintf("%d %.12s", r.Line, r.Raw))
		}
		assert.Equal(t, []string{`3 {"id":`, `4 not json`, `6 {"id":9,"pay`, `7 {"id":"3"}`}, got)
	})
}

// Each run appends to the dead-letter file: a resume keeps the letters of
// the run before, and each letter says which run wrote it.
func TestDeadLettersAppended(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, _ := testConfig(t, 2000)
		cfg.outageFor = 0
		first, err := run(context.Background(), cfg)
		require.NoError(t, err)
		require.NotZero(t, first.deadLettered)
		cfg.seed++
		second, err := run(context.Background(), cfg)
		require.NoError(t, err)
		require.NotZero(t, second.deadLettered)

		runs := map[string]int64{}
		for _, line := range readLines(t, cfg.deadLetters) {
			var l letterRecord
			require.NoError(t, json.Unmarshal([]byte(line), &l))
			runs[l.Run]++
		}
		assert.Len(t, runs, 2)
		var counts []int64
		for _, n := range runs {
			counts = append(counts, n)
		}
		assert.ElementsMatch(t, []int64{first.deadLettered, second.deadLettered}, counts)
	})
}

func TestFlagsChecked(t *testing.T) {
	cfg, _ := testConfig(t, 1)
	require.NoError(t, cfg.check())
	cfg.workers = 0
	err := cfg.check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-workers 0")
}

// An argument that is not a flag would make every flag after it be ignored:
// the program refuses it.
func TestStrayArgumentRefused(t *testing.T) {
	dir := t.TempDir()
	p := start(t, "foo", "-jobs", "10", "-not-run", filepath.Join(dir, "notrun.jsonl"))
	assert.Equal(t, 2, p.Wait())
	assert.Contains(t, p.Stderr.String(), `unexpected argument "foo"`)
	assert.Empty(t, p.Stdout.String())
	assert.NoFileExists(t, filepath.Join(dir, "notrun.jsonl"))
}

var progressLine = regexp.MustCompile(`^jobs: (\d+) done, (\d+) running, (\d+) queued`)

// progress reports whether line is a progress line with at least done jobs
// done, running running and queued queued.
func progress(done, running, queued int) func(string) bool {
	return func(line string) bool {
		m := progressLine.FindStringSubmatch(line)
		if m == nil {
			return false
		}
		d, _ := strconv.Atoi(m[1])
		r, _ := strconv.Atoi(m[2])
		q, _ := strconv.Atoi(m[3])
		return d >= done && r >= running && q >= queued
	}
}

func hasPrefix(prefix string) func(string) bool {
	return func(line string) bool { return strings.HasPrefix(line, prefix) }
}

// summaryCounts reads the counts of the summary line.
func summaryCounts(t *testing.T, stdout string) (succeeded, dead, notRun int) {
	t.Helper()
	m := regexp.MustCompile(`succeeded (\d+), .* dead-lettered (\d+), not processed (\d+),`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no summary in %q", stdout)
	succeeded, _ = strconv.Atoi(m[1])
	dead, _ = strconv.Atoi(m[2])
	notRun, _ = strconv.Atoi(m[3])
	return succeeded, dead, notRun
}

// Interrupted twice by SIGINT with a drain too short for the jobs in flight,
// and resumed from the not-run file each time, the program accounts for every
// job: each is succeeded, dead-lettered or not run, in exactly one run. The
// jobs the drain cut short are not run, not dead letters: they did not fail.
func TestInterruptAndResume(t *testing.T) {
	const jobs = 3000
	dir := t.TempDir()
	deadLetters := filepath.Join(dir, "dead.jsonl")
	common := []string{"-workers", "16", "-queue", "32", "-fail-rate", "0.1", "-broken-rate", "0.02",
		"-outage-for", "0", "-dead-letters", deadLetters, "-progress", "10ms", "-seed", "3"}

	in := ""
	want := map[int]bool{} // the jobs the run is given
	for i := 1; i <= jobs; i++ {
		want[i] = true
	}
	succeeded := 0
	for cycle := 1; cycle <= 3; cycle++ {
		notRun := filepath.Join(dir, fmt.Sprintf("notrun-%d.jsonl", cycle))
		args := append([]string{"-not-run", notRun}, common...)
		if in == "" {
			args = append(args, "-jobs", strconv.Itoa(jobs))
		} else {
			args = append(args, "-in", in)
		}
		deadBefore := readLetters(t, deadLetters)
		var p *process
		if cycle < 3 {
			// Calls of 200ms and a drain of 20ms: the stop interrupts
			// the jobs in flight.
			p = start(t, append(args, "-latency", "200ms", "-drain", "20ms")...)
			p.WaitLine("a progress line with jobs done", progress(20, 1, 0))
			p.Signal(syscall.SIGINT)
			p.WaitLine("the stopping message", hasPrefix("jobs: stopping: draining "))
			p.WaitLine("the end of the drain", hasPrefix("jobs: -drain 20ms has passed: interrupting "))
		} else {
			p = start(t, append(args, "-latency", "100us")...)
		}
		require.Equal(t, 0, p.Wait(), "stderr:\n%s", &p.Stderr)

		s, d, n := summaryCounts(t, p.Stdout.String())
		dead := readLetters(t, deadLetters)
		notRunIDs := readJobs(t, notRun)
		assert.Equal(t, len(want), s+d+n, "cycle %d: succeeded %d + dead %d + not run %d, want %d jobs", cycle, s, d, n, len(want))
		assert.Len(t, dead, len(deadBefore)+d, "cycle %d: dead letters appended", cycle)
		assert.Len(t, notRunIDs, n, "cycle %d", cycle)
		for id, l := range dead {
			if _, ok := deadBefore[id]; ok {
				continue
			}
			assert.True(t, want[id], "cycle %d: job %d dead-lettered but not given to the run", cycle, id)
			assert.NotContains(t, strings.Join(l.Errors, "; "), "context canceled", "cycle %d: job %d dead-lettered by the stop", cycle, id)
			assert.NotContains(t, strings.Join(l.Errors, "; "), "stopped", "cycle %d: job %d dead-lettered by the stop", cycle, id)
		}
		for id := range notRunIDs {
			assert.True(t, want[id], "cycle %d: job %d not run but not given to the run", cycle, id)
			if _, ok := dead[id]; ok {
				t.Errorf("cycle %d: job %d both not run and dead-lettered", cycle, id)
			}
		}
		if cycle < 3 {
			assert.NotZero(t, s, "cycle %d: the stop came before any job succeeded", cycle)
			assert.NotZero(t, n, "cycle %d: the stop left nothing unprocessed", cycle)
			assert.Contains(t, p.Stdout.String(), "run again with -in "+notRun)
		}
		t.Logf("run %d: %d jobs given: %d succeeded, %d dead-lettered, %d not run", cycle, len(want), s, d, n)
		succeeded += s
		want, in = notRunIDs, notRun
	}
	dead := readLetters(t, deadLetters)
	assert.NotZero(t, len(dead))
	assert.Empty(t, want, "jobs left unprocessed after the last run")
	assert.Equal(t, jobs, succeeded+len(dead), "succeeded %d + dead-lettered %d over three runs, want %d jobs", succeeded, len(dead), jobs)
	t.Logf("%d jobs: %d succeeded, %d dead-lettered, 0 not run, over three runs", jobs, succeeded, len(dead))
}

// A second SIGINT cuts the drain short at once: the program interrupts the
// jobs in flight, still writes every job that did not finish to the not-run
// file, and exits 130.
func TestSecondSignalAborts(t *testing.T) {
	const jobs = 2000
	dir := t.TempDir()
	notRun := filepath.Join(dir, "notrun.jsonl")
	deadLetters := filepath.Join(dir, "dead.jsonl")
	p := start(t, "-jobs", strconv.Itoa(jobs), "-workers", "16", "-queue", "32", "-latency", "1h", "-drain", "1h",
		"-not-run", notRun, "-dead-letters", deadLetters, "-progress", "10ms")
	p.WaitLine("a progress line with every worker busy and the queue full", progress(0, 16, 32))
	p.Signal(syscall.SIGINT)
	p.WaitLine("the stopping message", hasPrefix("jobs: stopping: draining 48 jobs for up to 1h0m0s (Ctrl-C again to abort; unfinished jobs are written to "+notRun+")"))
	p.Signal(syscall.SIGINT)
	require.Equal(t, 130, p.Wait(), "stderr:\n%s", &p.Stderr)
	assert.Contains(t, p.Stderr.String(), "jobs: aborting: interrupting 16 running jobs")
	s, d, n := summaryCounts(t, p.Stdout.String())
	assert.Equal(t, [3]int{0, 0, jobs}, [3]int{s, d, n})
	assert.Len(t, readJobs(t, notRun), jobs)
	assert.Empty(t, readLetters(t, deadLetters))
	t.Logf("%d jobs: %d succeeded, %d dead-lettered, %d not run, after a second SIGINT", jobs, s, d, n)
}

// The -broker jetstream tests run the program against an embedded NATS
// server in a temporary directory, on a free port.

var jsSummary = regexp.MustCompile(`processed (\d+), succeeded (\d+), retried \d+, dead-lettered (\d+), .*; no not-run file`)

// jsCounts reads the counts of a -broker jetstream summary line.
func jsCounts(t *testing.T, stdout string) (processed, succeeded, dead int) {
	t.Helper()
	m := jsSummary.FindStringSubmatch(stdout)
	require.NotNil(t, m, "no summary in %q", stdout)
	processed, _ = strconv.Atoi(m[1])
	succeeded, _ = strconv.Atoi(m[2])
	dead, _ = strconv.Atoi(m[3])
	return processed, succeeded, dead
}

// deadIDs reads the dead letters of a file by job id, if it exists.
func deadIDs(t *testing.T, path string) map[int]letterRecord {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return map[int]letterRecord{}
	}
	return readLetters(t, path)
}

// refused lists the jobs of 1..n the downstream always refuses with -seed
// seed and -broken-rate rate: each must end in the dead letters.
func refused(seed uint64, rate float64, n int) []int {
	d := &downstream{cfg: config{seed: seed, brokenRate: rate}}
	var ids []int
	for id := 1; id <= n; id++ {
		if d.roll(id, 0) < rate {
			ids = append(ids, id)
		}
	}
	return ids
}

func jsArgs(dir, name string) []string {
	return []string{"-broker", "jetstream", "-seed", "3", "-latency", "200us",
		"-broken-rate", "0.05", "-fail-rate", "0.1", "-outage-for", "0",
		"-dead-letters", filepath.Join(dir, name+"-dead.jsonl"),
		"-rejects", filepath.Join(dir, name+"-rejects.jsonl")}
}

// With -role both the program submits the jobs to the stream, runs them and
// stops once the stream is empty: every job succeeded or is in the dead
// letters, once, and the jobs the downstream refuses are among the letters.
func TestJetStreamBothAccountsForEveryJob(t *testing.T) {
	const n = 300
	dir := t.TempDir()
	p := start(t, append(jsArgs(dir, "both"), "-role", "both", "-jobs", strconv.Itoa(n),
		"-port", "0", "-data", filepath.Join(dir, "nats"))...)
	require.Equal(t, 0, p.Wait(), "stderr:\n%s", &p.Stderr)
	p.WaitLine("the server's address", hasPrefix("jobs: NATS server at nats://127.0.0.1:"))
	p.WaitLine("the submit count", hasPrefix(fmt.Sprintf("jobs: submitted %d jobs", n)))

	processed, succeeded, dead := jsCounts(t, p.Stdout.String())
	assert.Equal(t, n, processed)
	assert.Equal(t, n, succeeded+dead)
	ids := deadIDs(t, filepath.Join(dir, "both-dead.jsonl"))
	assert.Len(t, ids, dead)
	want := refused(3, 0.05, n)
	require.NotEmpty(t, want)
	for _, id := range want {
		_, ok := ids[id]
		assert.True(t, ok, "refused job %d not dead-lettered", id)
	}
	assert.DirExists(t, filepath.Join(dir, "nats"))
}

// One producer and two worker processes share one stream: the first worker
// runs the embedded server, the other worker and the producer connect to it
// with -nats. Once the stream is empty and the workers are stopped, every
// job succeeded in exactly one worker or is in the dead letters, once.
func TestJetStreamProducerAndTwoWorkers(t *testing.T) {
	const n = 400
	dir := t.TempDir()
	a := start(t, append(jsArgs(dir, "a"), "-role", "worker", "-workers", "8",
		"-port", "0", "-data", filepath.Join(dir, "nats"))...)
	line := a.WaitLine("the server's address", hasPrefix("jobs: NATS server at "))
	url := strings.TrimSuffix(strings.Fields(line)[4], ",")
	require.True(t, strings.HasPrefix(url, "nats://127.0.0.1:"), "address in %q", line)

	b := start(t, append(jsArgs(dir, "b"), "-role", "worker", "-workers", "8", "-nats", url)...)
	prod := start(t, append(jsArgs(dir, "producer"), "-role", "producer", "-jobs", strconv.Itoa(n), "-nats", url)...)
	require.Equal(t, 0, prod.Wait(), "producer's stderr:\n%s", &prod.Stderr)
	prod.WaitLine("the submit count", hasPrefix(fmt.Sprintf("jobs: submitted %d jobs", n)))
	assert.Empty(t, prod.Stdout.String(), "a producer runs no jobs, so it prints no summary")

	waitStreamEmpty(t, url)

	// The worker without the server first, so that its connection does not
	// lose the server while it drains.
	b.Signal(syscall.SIGINT)
	b.WaitLine("the stopping line", hasPrefix("jobs: stopping: draining 0 running jobs"))
	require.Equal(t, 0, b.Wait(), "worker b's stderr:\n%s", &b.Stderr)
	a.Signal(syscall.SIGINT)
	require.Equal(t, 0, a.Wait(), "worker a's stderr:\n%s", &a.Stderr)

	pa, sa, da := jsCounts(t, a.Stdout.String())
	pb, sb, db := jsCounts(t, b.Stdout.String())
	assert.Equal(t, n, pa+pb, "worker a: %s\nworker b: %s", &a.Stdout, &b.Stdout)
	assert.Equal(t, n, sa+sb+da+db)
	deadA := deadIDs(t, filepath.Join(dir, "a-dead.jsonl"))
	deadB := deadIDs(t, filepath.Join(dir, "b-dead.jsonl"))
	assert.Len(t, deadA, da)
	assert.Len(t, deadB, db)
	for id := range deadA {
		_, twice := deadB[id]
		assert.False(t, twice, "job %d dead-lettered by both workers", id)
	}
	for _, id := range refused(3, 0.05, n) {
		_, inA := deadA[id]
		_, inB := deadB[id]
		assert.True(t, inA || inB, "refused job %d not dead-lettered", id)
	}
}

// The jetstream flags are checked: an unknown broker or role, and a role or
// a server URL without -broker jetstream, which would be ignored.
func TestJetStreamFlagsChecked(t *testing.T) {
	for _, tc := range []struct {
		change func(*config)
		want   string
	}{
		{func(c *config) { c.broker = "redis" }, `-broker "redis"`},
		{func(c *config) { c.broker, c.role = "jetstream", "boss" }, `-role "boss"`},
		{func(c *config) { c.role = "worker" }, "-role worker: needs -broker jetstream"},
		{func(c *config) { c.natsURL = "nats://x:4222" }, "-nats nats://x:4222: needs -broker jetstream"},
		{func(c *config) { c.broker, c.metrics = "jetstream", ":9090" }, "-metrics"},
		{func(c *config) { c.broker, c.port = "jetstream", 70000 }, "-port 70000"},
	} {
		cfg, _ := testConfig(t, 1)
		tc.change(&cfg)
		err := cfg.check()
		require.Error(t, err, tc.want)
		assert.Contains(t, err.Error(), tc.want)
	}
	cfg, _ := testConfig(t, 1)
	cfg.broker, cfg.role, cfg.natsURL = "jetstream", "producer", "nats://x:4222"
	assert.NoError(t, cfg.check())
}

// A worker whose drain is cut short hands its running jobs back to the
// server, and another worker runs them: between the two, every job is
// processed exactly once.
func TestJetStreamJobsCutShortRunElsewhere(t *testing.T) {
	const n = 100
	dir := t.TempDir()
	a := start(t, append(jsArgs(dir, "a"), "-role", "worker", "-workers", "4",
		"-port", "0", "-data", filepath.Join(dir, "nats"))...)
	line := a.WaitLine("the server's address", hasPrefix("jobs: NATS server at "))
	url := strings.TrimSuffix(strings.Fields(line)[4], ",")

	// b's jobs take a minute each: only a drain cut short ends them.
	b := start(t, append(jsArgs(dir, "b"), "-role", "worker", "-workers", "4", "-nats", url,
		"-latency", "1m", "-drain", "100ms", "-progress", "20ms")...)
	prod := start(t, append(jsArgs(dir, "producer"), "-role", "producer", "-jobs", strconv.Itoa(n), "-nats", url)...)
	require.Equal(t, 0, prod.Wait(), "producer's stderr:\n%s", &prod.Stderr)
	b.WaitLine("a progress line with running jobs", func(line string) bool {
		var done, running int
		_, err := fmt.Sscanf(line, "jobs: %d done, %d running", &done, &running)
		return err == nil && running > 0
	})
	b.Signal(syscall.SIGINT)
	handedBack := b.WaitLine("the jobs handed back", func(l string) bool {
		return strings.HasSuffix(l, "interrupted jobs handed back to the server")
	})
	require.Equal(t, 0, b.Wait(), "worker b's stderr:\n%s", &b.Stderr)
	var interrupted int
	_, err := fmt.Sscanf(handedBack, "jobs: %d interrupted", &interrupted)
	require.NoError(t, err)
	assert.Positive(t, interrupted)

	waitStreamEmpty(t, url)
	a.Signal(syscall.SIGINT)
	require.Equal(t, 0, a.Wait(), "worker a's stderr:\n%s", &a.Stderr)

	pa, sa, da := jsCounts(t, a.Stdout.String())
	pb, sb, db := jsCounts(t, b.Stdout.String())
	assert.Equal(t, n, pa+pb, "worker a: %s\nworker b: %s", &a.Stdout, &b.Stdout)
	assert.Equal(t, n, sa+sb+da+db)
	assert.Len(t, deadIDs(t, filepath.Join(dir, "a-dead.jsonl")), da)
	assert.Len(t, deadIDs(t, filepath.Join(dir, "b-dead.jsonl")), db)
}

// waitStreamEmpty polls the server at url until the jobs stream is empty:
// every job acknowledged or terminated.
func waitStreamEmpty(t *testing.T, url string) {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s, err := js.Stream(context.Background(), queueName)
		if err != nil {
			return false
		}
		info, err := s.Info(context.Background())
		return err == nil && info.State.Msgs == 0
	}, 30*time.Second, 20*time.Millisecond)
}
