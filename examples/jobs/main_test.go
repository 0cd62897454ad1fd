package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weftgo/weft/pool"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testConfig(t *testing.T, jobs int) (config, *bytes.Buffer) {
	dir := t.TempDir()
	var out bytes.Buffer
	return config{
		jobs:        jobs,
		seed:        7,
		workers:     32,
		queue:       64,
		deadLetters: filepath.Join(dir, "dead.jsonl"),
		notRun:      filepath.Join(dir, "notrun.jsonl"),
		drain:       10 * time.Second,
		out:         &out,
		latency:     200 * time.Microsecond,
		failRate:    0.1,
		brokenRate:  0.01,
		outageAfter: 50 * time.Millisecond,
		outageFor:   50 * time.Millisecond,
	}, &out
}

// readIDs returns the job ids in a JSONL file of letters or of jobs.
func readIDs(t *testing.T, path string, letters bool) map[int]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var id int
		if letters {
			var l letterRecord
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Errors) == 0 || l.Attempts < 1 || l.First.IsZero() || l.Last.Before(l.First) {
				t.Fatalf("incomplete dead letter %+v", l)
			}
			id = l.Job.ID
		} else {
			var j Job
			if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
				t.Fatal(err)
			}
			id = j.ID
		}
		if ids[id] {
			t.Fatalf("job %d written twice to %s", id, path)
		}
		ids[id] = true
	}
	return ids
}

// Every job ends succeeded or dead-lettered, and the dead-letter file holds
// exactly the dead-lettered ones.
func TestEveryJobAccountedFor(t *testing.T) {
	cfg, out := testConfig(t, 5000)
	sum, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.total != 5000 || sum.succeeded+sum.deadLettered != sum.total || sum.notRun != 0 {
		t.Fatalf("summary %+v: succeeded + dead-lettered != total", sum)
	}
	if sum.deadLettered == 0 || sum.retried == 0 {
		t.Fatalf("summary %+v: the simulated failures should cause retries and dead letters", sum)
	}
	if got := int64(len(readIDs(t, cfg.deadLetters, true))); got != sum.deadLettered {
		t.Fatalf("dead-letter file holds %d jobs, summary says %d", got, sum.deadLettered)
	}
	if !strings.HasPrefix(out.String(), "processed 5000, succeeded ") {
		t.Fatalf("summary line %q", out)
	}
}

// A stop mid-run drains what is in flight, writes the jobs that did not run
// to the not-run file, and returns no error: nothing is lost.
func TestStopMidRun(t *testing.T) {
	cfg, _ := testConfig(t, 20000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	cfg.started = func(w *pool.Workers[Job]) {
		go func() {
			// Stop once a few hundred jobs are done, as a SIGTERM would.
			for w.Stats().Succeeded < 300 {
				time.Sleep(time.Millisecond)
			}
			once.Do(cancel)
		}()
	}
	sum, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.total != 20000 || sum.succeeded+sum.deadLettered+sum.notRun != sum.total {
		t.Fatalf("summary %+v: a job was lost", sum)
	}
	if sum.notRun == 0 {
		t.Fatalf("summary %+v: the stop came too late to leave jobs unprocessed", sum)
	}
	dead := readIDs(t, cfg.deadLetters, true)
	notRun := readIDs(t, cfg.notRun, false)
	if int64(len(dead)) != sum.deadLettered || int64(len(notRun)) != sum.notRun {
		t.Fatalf("files hold %d dead letters and %d unprocessed jobs, summary %+v", len(dead), len(notRun), sum)
	}
	for id := range notRun {
		if dead[id] {
			t.Fatalf("job %d both dead-lettered and not processed", id)
		}
	}
}

func TestInputFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "jobs.jsonl")
	os.WriteFile(in, []byte("{\"id\":1,\"payload\":\"a\"}\n\n{\"id\":2,\"payload\":\"b\"}\n"), 0o600)
	cfg, _ := testConfig(t, 0)
	cfg.in = in
	cfg.brokenRate, cfg.failRate, cfg.outageFor = 0, 0, 0
	sum, err := run(context.Background(), cfg)
	if err != nil || sum.total != 2 || sum.succeeded != 2 {
		t.Fatalf("run = %+v, %v; want 2 jobs succeeded", sum, err)
	}

	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"id\":1}\n{\"id\":\n"), 0o600)
	cfg, _ = testConfig(t, 0)
	cfg.in = bad
	if _, err := run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), bad+":2:") {
		t.Fatalf("malformed file: %v, want an error naming %s:2", err, bad)
	}
}

func TestFlagsChecked(t *testing.T) {
	cfg, _ := testConfig(t, 1)
	cfg.workers = 0
	if err := cfg.check(); err == nil || !strings.Contains(err.Error(), "-workers 0") {
		t.Fatalf("check = %v", err)
	}
}
