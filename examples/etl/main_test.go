package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

func testConfig(t *testing.T) (config, *bytes.Buffer) {
	dir := t.TempDir()
	var out bytes.Buffer
	return config{
		rows:    5000,
		db:      filepath.Join(dir, "orders.db"),
		rejects: filepath.Join(dir, "orders.rejects.csv"),
		workers: 4,
		batch:   500,
		wait:    time.Hour, // batches are full, or the last one: the same on any machine
		out:     &out,
	}, &out
}

// reject is a line of the rejects file.
type reject struct {
	line        int
	reason, raw string
}

// readRejects returns the rejects file's rows by line number; a line in it
// twice fails the test.
func readRejects(t *testing.T, path string) map[int]reject {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	require.Equal(t, []string{"line", "reason", "raw"}, rows[0])
	out := map[int]reject{}
	for _, r := range rows[1:] {
		line, err := strconv.Atoi(r[0])
		require.NoError(t, err)
		if _, ok := out[line]; ok {
			t.Fatalf("line %d rejected twice", line)
		}
		out[line] = reject{line, r[1], r[2]}
	}
	return out
}

// tableLines returns the lines the table's rows came from, by id.
func tableLines(t *testing.T, path string) map[int64]int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT id, line FROM orders`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var line int
		require.NoError(t, rows.Scan(&id, &line))
		out[id] = line
	}
	require.NoError(t, rows.Err())
	return out
}

// checkEveryRowOnce checks that each of the data lines first to last is in
// exactly one of the table and the rejects file, and that the summary
// counts them so.
func checkEveryRowOnce(t *testing.T, cfg config, sum summary, first, last int) {
	t.Helper()
	table := tableLines(t, cfg.db)
	rejects := readRejects(t, cfg.rejects)
	// Plain lookups: testify's Contains walks a map.
	seen := map[int]string{}
	for id, line := range table {
		if was, ok := seen[line]; ok {
			t.Fatalf("line %d loaded twice: %s and as id %d", line, was, id)
		}
		seen[line] = fmt.Sprintf("loaded as id %d", id)
	}
	var dups int64
	for line, r := range rejects {
		if was, ok := seen[line]; ok {
			t.Fatalf("line %d %s and rejected: %s", line, was, r.reason)
		}
		seen[line] = r.reason
		if strings.HasPrefix(r.reason, "duplicate id ") {
			dups++
		}
	}
	for line := first; line <= last; line++ {
		if _, ok := seen[line]; !ok {
			t.Errorf("line %d neither loaded nor rejected", line)
		}
	}
	assert.Len(t, seen, last-first+1)
	assert.EqualValues(t, last-first+1, sum.read)
	assert.Equal(t, sum.read, sum.written+sum.rejected+sum.duplicates, "summary %+v", sum)
	assert.EqualValues(t, len(table), sum.written)
	assert.Equal(t, dups, sum.duplicates)
	assert.EqualValues(t, len(rejects), sum.rejected+sum.duplicates)
}

// The table holds exactly the good rows of the input, with their values.
func TestLoadGenerated(t *testing.T) {
	cfg, out := testConfig(t)
	sum, err := run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, summary{read: 5000, written: 4900, rejected: 100}, summary{read: sum.read, written: sum.written, rejected: sum.rejected, duplicates: sum.duplicates})
	assert.True(t, strings.HasPrefix(out.String(), "rows read 5000, written 4900, duplicates 0, rejected 100 in "), "summary %q", out)
	assert.Contains(t, out.String(), "table orders in "+cfg.db+"; rejected and duplicate rows in "+cfg.rejects+"\n")
	checkEveryRowOnce(t, cfg, sum, 2, 5001)
	for line, r := range readRejects(t, cfg.rejects) {
		id := line - 1
		assert.Equal(t, reject{line, "name is empty", fmt.Sprintf("%d,,%d.%02d", id, id%10_000/100, id%100)}, r)
	}

	db, err := sql.Open("sqlite", cfg.db)
	require.NoError(t, err)
	defer db.Close()
	var count, idSum int64
	var amountSum float64
	require.NoError(t, db.QueryRow(`SELECT COUNT(*), SUM(id), SUM(amount) FROM orders`).Scan(&count, &idSum, &amountSum))
	var wantIDs int64
	var wantAmount float64
	for i := int64(1); i <= 5000; i++ {
		if i%50 != 0 {
			wantIDs += i
			wantAmount += float64(i%10_000) / 100
		}
	}
	assert.EqualValues(t, 4900, count)
	assert.Equal(t, wantIDs, idSum)
	assert.InDelta(t, wantAmount, amountSum, 0.001)
	var name string
	require.NoError(t, db.QueryRow(`SELECT name FROM orders WHERE id = 1234`).Scan(&name))
	assert.Equal(t, "customer-237", name)
}

// A failing writer stops the pipeline and its error comes back; nothing is
// left running (goleak checks at the end of the package's tests).
func TestWriterFailureStopsCleanly(t *testing.T) {
	cfg, out := testConfig(t)
	errDisk := errors.New("disk full")
	cfg.beforeWrite = func(batch int) error {
		if batch == 3 {
			return errDisk
		}
		return nil
	}
	sum, err := run(context.Background(), cfg)
	require.ErrorIs(t, err, errDisk)
	assert.Contains(t, err.Error(), `stage "write"`)
	assert.EqualValues(t, 1000, sum.written, "the 2 batches before the failure")
	assert.Empty(t, out.String(), "a failed load printed a summary")
}

// Every row that cannot be loaded, a short one and one that is not valid CSV
// included, is rejected with its line, the reason and the row as it was, and
// the load goes on.
func TestBadRowsRejected(t *testing.T) {
	in := filepath.Join(t.TempDir(), "orders.csv")
	require.NoError(t, os.WriteFile(in, []byte("id,name,amount\n1,ann,2.50\n2,,1\n3,bob,x\n4,cy\n5,\"d\"e,1\n6,dee,4,extra\nseven,eve,1\n8,\"fay\nfox\",3\n9,gus,5\n"), 0o600))
	cfg, out := testConfig(t)
	cfg.in = in
	sum, err := run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, summary{read: 9, written: 3, rejected: 6}, summary{read: sum.read, written: sum.written, rejected: sum.rejected, duplicates: sum.duplicates})
	assert.True(t, strings.HasPrefix(out.String(), "rows read 9, written 3, duplicates 0, rejected 6 in "), "summary %q", out)
	assert.Equal(t, map[int]reject{
		3: {3, "name is empty", "2,,1"},
		4: {4, `amount "x" is not a number`, "3,bob,x"},
		5: {5, "2 fields, want 3 (id,name,amount)", "4,cy"},
		6: {6, `not valid CSV: extraneous or missing " in quoted-field`, `5,"d"e,1`},
		7: {7, "4 fields, want 3 (id,name,amount)", "6,dee,4,extra"},
		8: {8, `id "seven" is not a number`, "seven,eve,1"},
	}, readRejects(t, cfg.rejects))
	assert.Equal(t, map[int64]int{1: 2, 8: 9, 9: 11}, tableLines(t, cfg.db))
}

// A row whose id an earlier row loaded is a duplicate: the first stays, and
// the duplicate is counted and written to the rejects file with the line it
// duplicates. A rerun of the same file finds the same duplicates, and the
// rows it loaded before are not duplicates of themselves.
func TestDuplicatesCountedAndReported(t *testing.T) {
	in := filepath.Join(t.TempDir(), "sheet.csv")
	require.NoError(t, os.WriteFile(in, []byte("\ufeffid,name,amount\n1,ann,10\n2,bob,NaN\n3,cy,-Inf\n1,ann,11\n4,dan,1\n4,dan,2\n4,dan,3\n"), 0o600))
	cfg, out := testConfig(t)
	cfg.in = in
	cfg.batch = 2 // duplicates within a batch and across batches
	for range 2 {
		out.Reset()
		sum, err := run(context.Background(), cfg)
		require.NoError(t, err)
		assert.Equal(t, summary{read: 7, written: 2, rejected: 2, duplicates: 3}, summary{read: sum.read, written: sum.written, rejected: sum.rejected, duplicates: sum.duplicates})
		assert.True(t, strings.HasPrefix(out.String(), "rows read 7, written 2, duplicates 3, rejected 2 in "), "summary %q", out)
		checkEveryRowOnce(t, cfg, sum, 2, 8)
		rejects := readRejects(t, cfg.rejects)
		assert.Equal(t, reject{5, "duplicate id 1, loaded from line 2", "1,ann,11"}, rejects[5])
		assert.Equal(t, reject{8, "duplicate id 4, loaded from line 6", "4,dan,3"}, rejects[8])
		assert.Equal(t, reject{3, `amount "NaN" is not a number`, "2,bob,NaN"}, rejects[3])
	}
	db, err := openDB(context.Background(), cfg.db)
	require.NoError(t, err)
	defer db.Close()
	var n int
	var amount float64
	require.NoError(t, db.QueryRow(`SELECT COUNT(*), SUM(amount) FROM orders`).Scan(&n, &amount))
	assert.Equal(t, 2, n)
	assert.Equal(t, 11.0, amount, "the first of each id: 10 + 1")

	// Another file with an id the first one loaded: a duplicate of that row.
	other := filepath.Join(filepath.Dir(in), "more.csv")
	require.NoError(t, os.WriteFile(other, []byte("id,name,amount\n4,dan,9\n5,eve,1\n"), 0o600))
	cfg.in = other
	sum, err := run(context.Background(), cfg)
	require.NoError(t, err)
	assert.EqualValues(t, 1, sum.duplicates)
	assert.Equal(t, reject{2, "duplicate id 4, loaded from " + in + ":6", "4,dan,9"}, readRejects(t, cfg.rejects)[2])
}

// A load stopped part way prints what it did and how to complete it; run
// again, it completes, and every row is loaded, rejected or a duplicate once.
func TestInterruptedLoadCompletesOnRerun(t *testing.T) {
	cfg, out := testConfig(t)
	cfg.batch = 100
	cfg.rows = 3000
	in := filepath.Join(t.TempDir(), "orders.csv")
	require.NoError(t, os.WriteFile(in, ordersCSV(cfg.rows), 0o600))
	cfg.in = in
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	errStop := errors.New("stop")
	cfg.beforeWrite = func(batch int) error {
		if batch == 5 {
			cancel(errStop)
		}
		return nil
	}
	sum, err := run(ctx, cfg)
	require.ErrorIs(t, err, errStop)
	assert.Less(t, sum.written+sum.rejected+sum.duplicates, int64(cfg.rows))
	assert.Contains(t, out.String(), fmt.Sprintf("interrupted: rows read %d, written %d, duplicates %d, rejected %d in ", sum.read, sum.written, sum.duplicates, sum.rejected))
	assert.Contains(t, out.String(), "\nrun again with the same -in and -db to complete (database "+cfg.db+")\n")
	assert.Len(t, tableLines(t, cfg.db), int(sum.written), "whole batches, all counted, are in the table")

	cfg.beforeWrite = nil
	out.Reset()
	sum, err = run(context.Background(), cfg)
	require.NoError(t, err)
	checkEveryRowOnce(t, cfg, sum, 2, cfg.rows+1)
	assert.NotZero(t, sum.duplicates)
	assert.NotZero(t, sum.rejected)
}

// ordersCSV is a CSV of n rows with bad rows, short rows and duplicate ids
// among them. Row i is on line i+1.
func ordersCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("id,name,amount\n")
	for i := 1; i <= n; i++ {
		switch {
		case i%97 == 0:
			fmt.Fprintf(&b, "%d,short\n", i)
		case i%89 == 0:
			fmt.Fprintf(&b, "%d,,1\n", i)
		case i%83 == 0:
			fmt.Fprintf(&b, "%d,dup-%d,1\n", i-40, i) // the id of a row 40 lines up
		default:
			fmt.Fprintf(&b, "%d,c%d,%d.%02d\n", i, i%31, i%500, i%100)
		}
	}
	return b.Bytes()
}

// Flag values the load cannot work with are refused before it starts.
func TestConfigCheck(t *testing.T) {
	cfg, _ := testConfig(t)
	require.NoError(t, cfg.check())
	for _, bad := range []func(*config){
		func(c *config) { c.batch = 0 },
		func(c *config) { c.workers = 0 },
		func(c *config) { c.rows = -5 },
		func(c *config) { c.wait = -time.Second },
		func(c *config) { c.db = "" },
	} {
		c := cfg
		bad(&c)
		assert.Error(t, c.check(), "check() on %+v", c)
	}
}

// Run as a user runs it, with no flags, the program loads into orders.db in
// the current directory and says so.
func TestDefaultDatabaseInCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	p := startIn(t, dir, "-rows", "1000", "-progress", "0")
	require.Equal(t, 0, p.Wait(), "stderr:\n%s", &p.Stderr)
	assert.Contains(t, p.Stdout.String(), "rows read 1000, written 980, duplicates 0, rejected 20 in ")
	assert.Contains(t, p.Stdout.String(), "table orders in orders.db; rejected and duplicate rows in orders.rejects.csv\n")
	assert.Len(t, tableLines(t, filepath.Join(dir, "orders.db")), 980)
	assert.Len(t, readRejects(t, filepath.Join(dir, "orders.rejects.csv")), 20)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"orders.db", "orders.rejects.csv"}, names, "nothing else left behind")
}

// An argument that is not a flag would make every flag after it be ignored:
// the program refuses it.
func TestStrayArgumentRefused(t *testing.T) {
	dir := t.TempDir()
	p := startIn(t, dir, "orders.csv", "-rows", "10")
	assert.Equal(t, 2, p.Wait())
	assert.Contains(t, p.Stderr.String(), `unexpected argument "orders.csv"`)
	assert.Empty(t, p.Stdout.String())
	assert.NoFileExists(t, filepath.Join(dir, "orders.db"))
}
