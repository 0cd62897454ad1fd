package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testConfig(t *testing.T) (config, *bytes.Buffer, *bytes.Buffer) {
	var report, out bytes.Buffer
	return config{
		rows:    5000,
		db:      filepath.Join(t.TempDir(), "orders.db"),
		workers: 4,
		batch:   500,
		wait:    100 * time.Millisecond,
		report:  &report,
		out:     &out,
	}, &report, &out
}

// The table holds exactly the good rows of the input, with their values.
func TestLoadGenerated(t *testing.T) {
	cfg, report, out := testConfig(t)
	sum, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.read != 5000 || sum.rejected != 100 || sum.written != 4900 {
		t.Fatalf("summary %+v, want 5000 read, 100 rejected, 4900 written", sum)
	}
	if got := strings.Count(report.String(), "rejected: name is empty"); got != 100 {
		t.Fatalf("report has %d rejections, want 100:\n%s", got, report)
	}
	if !strings.HasPrefix(out.String(), "rows read 5000, rejected 100, written 4900 in ") {
		t.Fatalf("summary line %q", out)
	}

	db, err := sql.Open("sqlite", cfg.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var count, idSum int64
	var amountSum float64
	if err := db.QueryRow(`SELECT COUNT(*), SUM(id), SUM(amount) FROM orders`).Scan(&count, &idSum, &amountSum); err != nil {
		t.Fatal(err)
	}
	var wantIDs int64
	var wantAmount float64
	for i := int64(1); i <= 5000; i++ {
		if i%50 != 0 {
			wantIDs += i
			wantAmount += float64(i%10_000) / 100
		}
	}
	if count != 4900 || idSum != wantIDs || int64(amountSum*100+0.5) != int64(wantAmount*100+0.5) {
		t.Fatalf("table: %d rows, id sum %d, amount sum %.2f; want 4900, %d, %.2f", count, idSum, amountSum, wantIDs, wantAmount)
	}
	var name string
	if err := db.QueryRow(`SELECT name FROM orders WHERE id = 1234`).Scan(&name); err != nil || name != "customer-237" {
		t.Fatalf("row 1234 name %q, %v", name, err)
	}
}

// A failing writer stops the pipeline and its error comes back; nothing is
// left running (goleak checks at the end of the package's tests).
func TestWriterFailureStopsCleanly(t *testing.T) {
	cfg, _, out := testConfig(t)
	errDisk := errors.New("disk full")
	cfg.failWrite = func(batch int) error {
		if batch == 3 {
			return errDisk
		}
		return nil
	}
	sum, err := run(context.Background(), cfg)
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), `stage "write"`) {
		t.Fatalf("run = %v, want the writer's error naming the stage", err)
	}
	if sum.written != 1000 {
		t.Fatalf("written %d, want the 2 batches before the failure", sum.written)
	}
	if out.Len() != 0 {
		t.Fatalf("a failed load printed a summary: %q", out)
	}
}

func TestInputFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("id,name,amount\n1,ann,2.50\n2,,1\n3,bob,x\n4,cy,4\n"), 0o600)
	cfg, report, _ := testConfig(t)
	cfg.in = good
	sum, err := run(context.Background(), cfg)
	if err != nil || sum.read != 4 || sum.rejected != 2 || sum.written != 2 {
		t.Fatalf("run = %+v, %v; want 4 read, 2 rejected, 2 written", sum, err)
	}
	for _, want := range []string{good + ":3: rejected: name is empty", good + `:4: rejected: amount "x" is not a number`} {
		if !strings.Contains(report.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, report)
		}
	}

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("id,name,amount\n1,ann,2\n2,bob\n"), 0o600)
	cfg, _, _ = testConfig(t)
	cfg.in = bad
	if _, err := run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), bad+":3: wrong number of fields") {
		t.Fatalf("malformed file: %v, want an error naming %s:3", err, bad)
	}

	cfg, _, _ = testConfig(t)
	cfg.in = filepath.Join(dir, "missing.csv")
	if _, err := run(context.Background(), cfg); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// Rows a spreadsheet writes: a byte-order mark before the header, amounts
// that ParseFloat reads but the table cannot hold, an id given twice. The
// bad amounts are rejected, the last of a duplicate wins, and a second run
// over the same database completes as the first did.
func TestSpreadsheetInputAndRerun(t *testing.T) {
	in := filepath.Join(t.TempDir(), "sheet.csv")
	if err := os.WriteFile(in, []byte("\ufeffid,name,amount\n1,ann,10\n2,bob,NaN\n3,cy,-Inf\n1,ann,11\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, report, _ := testConfig(t)
	cfg.in = in
	for run1 := range 2 {
		sum, err := run(context.Background(), cfg)
		if err != nil || sum.read != 4 || sum.rejected != 2 || sum.written != 2 {
			t.Fatalf("run %d = %+v, %v; want 4 read, 2 rejected, 2 written\n%s", run1+1, sum, err, report)
		}
	}
	db, err := openDB(context.Background(), cfg.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var amount float64
	if err := db.QueryRow(`SELECT COUNT(*), SUM(amount) FROM orders`).Scan(&n, &amount); err != nil || n != 1 || amount != 11 {
		t.Fatalf("table holds %d rows summing %v (%v), want the one order 1 at 11", n, amount, err)
	}
	if !strings.Contains(report.String(), `:3: rejected: amount "NaN" is not a number`) {
		t.Fatalf("report lacks the NaN row:\n%s", report)
	}
}

// Flag values the load cannot work with are refused before it starts.
func TestConfigCheck(t *testing.T) {
	cfg, _, _ := testConfig(t)
	if err := cfg.check(); err != nil {
		t.Fatalf("check() = %v on the defaults", err)
	}
	for _, bad := range []func(*config){
		func(c *config) { c.batch = 0 },
		func(c *config) { c.workers = 0 },
		func(c *config) { c.rows = -5 },
		func(c *config) { c.wait = -time.Second },
	} {
		c := cfg
		bad(&c)
		if err := c.check(); err == nil {
			t.Errorf("check() = nil on %+v", c)
		}
	}
}
