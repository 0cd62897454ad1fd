//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	progressLine = regexp.MustCompile(`^etl: (\d+) rows read, (\d+) written, (\d+) duplicates, (\d+) rejected$`)
	summaryLine  = regexp.MustCompile(`rows read (\d+), written (\d+), duplicates (\d+), rejected (\d+) in `)
)

// counts reads the four counts of a progress or summary line.
func counts(m []string) summary {
	n := make([]int64, 4)
	for i := range n {
		n[i], _ = strconv.ParseInt(m[i+1], 10, 64)
	}
	return summary{read: n[0], written: n[1], duplicates: n[2], rejected: n[3]}
}

// Interrupted by SIGINT, the program prints what it loaded and how to
// complete the load, and exits 130; run again with the same -in and -db, it
// completes the load, and every row of the file is loaded, rejected or a
// duplicate, once.
//
// The first run reads a named pipe, so that the test knows how many rows it
// has been given when it sends the signal: the first half of the file, all of
// it processed, and the program waiting to read more.
func TestInterruptAndRerun(t *testing.T) {
	const rows, sent = 4000, 2000
	dir := t.TempDir()
	in := filepath.Join(dir, "orders.csv")
	db := filepath.Join(dir, "orders.db")
	all := ordersCSV(rows)
	half := all[:bytes.Index(all, fmt.Appendf(nil, "\n%d,", sent+1))+1]
	require.Less(t, len(half), 60_000, "the pipe must take it without a reader")

	require.NoError(t, syscall.Mkfifo(in, 0o600))
	p := start(t, "-in", in, "-db", db, "-batch", "100", "-wait", "10ms", "-progress", "5ms")
	// Opened for reading and writing, the pipe does not wait for the
	// program to open its end, and takes the rows without waiting for it to
	// read them.
	pipe, err := os.OpenFile(in, os.O_RDWR, 0)
	require.NoError(t, err)
	defer pipe.Close()
	_, err = pipe.Write(half)
	require.NoError(t, err)
	var before summary
	p.WaitLine("a progress line with every row sent loaded, rejected or a duplicate", func(line string) bool {
		m := progressLine.FindStringSubmatch(line)
		if m == nil {
			return false
		}
		before = counts(m)
		return before.read == sent && before.written+before.duplicates+before.rejected == sent
	})
	p.Signal(syscall.SIGINT)
	require.Equal(t, 130, p.Wait(), "stderr:\n%s", &p.Stderr)
	assert.Contains(t, p.Stdout.String(), fmt.Sprintf("interrupted: rows read %d, written %d, duplicates %d, rejected %d in ",
		before.read, before.written, before.duplicates, before.rejected))
	assert.Contains(t, p.Stdout.String(), "\nrun again with the same -in and -db to complete (database "+db+")\n")
	assert.Len(t, tableLines(t, db), int(before.written))
	require.NoError(t, pipe.Close())

	// The same -in, now the whole file.
	require.NoError(t, os.Remove(in))
	require.NoError(t, os.WriteFile(in, all, 0o600))
	p = start(t, "-in", in, "-db", db, "-progress", "0")
	require.Equal(t, 0, p.Wait(), "stderr:\n%s", &p.Stderr)
	m := summaryLine.FindStringSubmatch(p.Stdout.String())
	require.NotNil(t, m, "no summary in %q", p.Stdout.String())
	after := counts(m)
	checkEveryRowOnce(t, config{db: db, rejects: rejectsPath(db)}, after, 2, rows+1)
	assert.NotZero(t, after.duplicates)
	assert.NotZero(t, after.rejected)
	t.Logf("%d rows: interrupted after %d (written %d, duplicates %d, rejected %d); rerun: written %d, duplicates %d, rejected %d",
		rows, before.read, before.written, before.duplicates, before.rejected, after.written, after.duplicates, after.rejected)
}
