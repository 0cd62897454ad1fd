// Command etl loads a CSV of orders into SQLite through a weft pipeline:
//
//	read CSV ─▶ parse (4 workers, order kept) ─▶ reject bad rows ─▶ batch 500 rows or 100ms ─▶ one transaction per batch
//
// By default it generates the CSV itself (deterministic; one row in 50 is
// bad) and loads it into orders.db in the current directory; -in reads a
// file instead, and -db names another database. A row that cannot be loaded
// (not valid CSV, not three fields, a missing name, an amount that is not a
// number) is rejected and the load goes on; a row whose id an earlier row of
// the same file already loaded is a duplicate: the first one stays. Rejected
// and duplicate rows are written to the rejects file (CSV: line, reason, raw
// row), which each run rewrites.
//
// Each batch is one transaction: a load stopped by an error or a signal
// leaves whole batches behind, and running it again with the same -in and
// -db completes it. A rerun writes again the rows that are already in (each
// row remembers its file and line, so it is not a duplicate of itself) and
// reports every rejected row again, so that the rejects file is complete
// after each run. The first Ctrl-C or SIGTERM prints a partial summary and
// exits with 128 plus the signal's number; a second exits at once.
//
//	go -C examples run ./etl
//	go -C examples run ./etl -in orders.csv -db orders.db
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weftgo/weft/pipeline"
	"github.com/weftgo/weft/shutdown"
	_ "modernc.org/sqlite" // pure Go SQLite driver, no cgo
)

// config is what the flags set; tests build one directly.
type config struct {
	in       string        // CSV file; generated when empty
	rows     int           // rows to generate
	db       string        // SQLite file
	rejects  string        // CSV file of the rows not loaded; rewritten by each run
	workers  int           // parse workers
	batch    int           // rows per transaction
	wait     time.Duration // longest a row waits for its batch to fill
	every    time.Duration // how often progress is printed; 0 for never
	progress io.Writer     // where progress goes
	out      io.Writer     // where the summary goes

	// beforeWrite, when set, is called before each batch is written; an
	// error from it fails the load. Tests use it to break the writer or to
	// stop the load part way.
	beforeWrite func(batch int) error
}

// check reports a flag value the load cannot work with.
func (c config) check() error {
	switch {
	case c.rows < 0:
		return fmt.Errorf("-rows %d: need zero or more", c.rows)
	case c.db == "":
		return errors.New("-db: need a file name")
	case c.workers < 1:
		return fmt.Errorf("-workers %d: need at least one", c.workers)
	case c.batch < 1:
		return fmt.Errorf("-batch %d: need at least one row", c.batch)
	case c.wait < 0:
		return fmt.Errorf("-wait %v: need zero or more", c.wait)
	case c.every < 0:
		return fmt.Errorf("-progress %v: need zero or more", c.every)
	}
	return nil
}

// rejectsPath is where the rejected rows go when -rejects is not given: next
// to the database, named after it.
func rejectsPath(db string) string {
	return strings.TrimSuffix(db, filepath.Ext(db)) + ".rejects.csv"
}

// order is one parsed row.
type order struct {
	line   int
	id     int64
	name   string
	amount float64
	raw    []byte
}

// record is one raw CSV record with its line number, for error messages, and
// its text, for the rejects file. err is set when the text is not valid CSV.
type record struct {
	line   int
	fields []string
	raw    []byte
	err    error
}

// summary is what a load did. Every row read is written, rejected or a
// duplicate, once the load has run to its end.
type summary struct {
	read, written, rejected, duplicates int64
	elapsed                             time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.in, "in", "", "CSV file to load (id,name,amount); generated when empty")
	flag.IntVar(&cfg.rows, "rows", 100_000, "rows to generate when -in is empty")
	flag.StringVar(&cfg.db, "db", "orders.db", "SQLite database file")
	flag.StringVar(&cfg.rejects, "rejects", "", "CSV file for the rows not loaded, rewritten by each run (default: the -db file's name with .rejects.csv)")
	flag.IntVar(&cfg.workers, "workers", 4, "parse workers")
	flag.IntVar(&cfg.batch, "batch", 500, "rows per transaction")
	flag.DurationVar(&cfg.wait, "wait", 100*time.Millisecond, "longest a row waits for its batch to fill")
	flag.DurationVar(&cfg.every, "progress", time.Second, "how often to print progress to stderr (0 for never)")
	flag.Parse()
	if flag.NArg() > 0 {
		// The flag package stops at the first argument that is not a flag:
		// every flag after it would be ignored without a word.
		fmt.Fprintf(os.Stderr, "etl: unexpected argument %q: etl takes flags only (-h lists them)\n", flag.Arg(0))
		os.Exit(2)
	}
	if cfg.rejects == "" {
		cfg.rejects = rejectsPath(cfg.db)
	}
	cfg.progress, cfg.out = os.Stderr, os.Stdout
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "etl:", err)
		os.Exit(2)
	}

	// The first signal stops the load after the batch being written; every
	// batch is a transaction, so a second one, which exits at once, loses
	// nothing either.
	ctx, stop := shutdown.OnSignal(context.Background())
	_, err := run(ctx, cfg)
	stop()
	var sig *shutdown.SignalError
	switch {
	case errors.As(err, &sig):
		os.Exit(128 + signalNumber(sig.Signal))
	case err != nil:
		fmt.Fprintln(os.Stderr, "etl:", err)
		os.Exit(1)
	}
}

// run loads the CSV into the database and prints the summary: a partial one,
// with how to complete the load, when ctx ends first.
func run(ctx context.Context, cfg config) (summary, error) {
	var sum summary
	start := time.Now()

	src, name, err := openInput(ctx, cfg)
	if err != nil {
		return sum, err
	}
	defer src.Close()
	// The source's name in the table: the same file is the same source
	// whatever the directory the load runs in.
	source := name
	if cfg.in != "" {
		if source, err = filepath.Abs(cfg.in); err != nil {
			return sum, err
		}
	}

	db, err := openDB(ctx, cfg.db)
	if err != nil {
		return sum, err
	}
	defer db.Close()

	rejects, err := newRejectFile(cfg.rejects)
	if err != nil {
		return sum, err
	}
	defer rejects.discard()

	var read, rejected, duplicates, written atomic.Int64
	stopProgress := startProgress(cfg, &read, &written, &rejected, &duplicates)
	defer stopProgress()

	// Source: the CSV reader runs on the pipeline's goroutine. A record that
	// is not valid CSV goes on with its error, to be rejected by parse; the
	// reader goes on with the next one.
	records := pipeline.Generate(ctx, func(ctx context.Context, emit func(record) error) error {
		tee := &recorder{r: src}
		r := csv.NewReader(tee)
		r.FieldsPerRecord = -1 // a short or long row is rejected by parse, not the end of the load
		var prev int64
		for {
			fields, err := r.Read()
			if err == io.EOF {
				return nil
			}
			off := r.InputOffset()
			raw := bytes.TrimRight(tee.take(prev, off), "\r\n")
			prev = off
			rec := record{fields: fields, raw: raw}
			var pe *csv.ParseError
			switch {
			case errors.As(err, &pe):
				rec.line, rec.err = pe.StartLine, pe.Err
			case err != nil:
				return fmt.Errorf("%s: %w", name, err)
			default:
				rec.line, _ = r.FieldPos(0)
			}
			if rec.line == 1 && err == nil && strings.TrimPrefix(fields[0], "\ufeff") == "id" {
				continue // header, with or without the byte-order mark Excel writes
			}
			read.Add(1)
			if err := emit(rec); err != nil {
				return err
			}
		}
	}, pipeline.Name("read"))

	// Parse with several workers; Map keeps the input order. A bad row is
	// not a reason to stop the load: OnError writes it to the rejects file
	// and the stage goes on. That is the dead-letter path of a pipeline.
	orders := pipeline.Map(records, parse,
		pipeline.Concurrency(cfg.workers),
		pipeline.Name("parse"),
		pipeline.OnError(func(_ context.Context, rec record, err error) error {
			rejected.Add(1)
			return rejects.write(rec.line, err.Error(), rec.raw) // a rejects file that cannot be written stops the load
		}))

	// One transaction per 500 rows, or per 100ms of a trickle.
	batches := pipeline.Batch(orders, cfg.batch, cfg.wait)
	n := 0
	err = pipeline.ForEach(batches, func(ctx context.Context, b []order) error {
		n++
		if cfg.beforeWrite != nil {
			if err := cfg.beforeWrite(n); err != nil {
				return err
			}
		}
		dups, err := insert(ctx, db, source, b)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		// Counted once the transaction is committed: a batch is in the
		// table whole, or not at all.
		for _, d := range dups {
			if err := rejects.write(d.line, d.reason, d.raw); err != nil {
				return err
			}
		}
		duplicates.Add(int64(len(dups)))
		written.Add(int64(len(b) - len(dups)))
		return nil
	}, pipeline.Name("write"))
	stopProgress()

	sum = summary{read: read.Load(), written: written.Load(), rejected: rejected.Load(), duplicates: duplicates.Load(), elapsed: time.Since(start)}
	if cerr := rejects.commit(); err == nil {
		err = cerr
	}
	if err != nil && ctx.Err() == nil {
		return sum, err
	}
	rate := float64(sum.read) / sum.elapsed.Seconds()
	counts := fmt.Sprintf("rows read %d, written %d, duplicates %d, rejected %d in %v (%.0f rows/s)",
		sum.read, sum.written, sum.duplicates, sum.rejected, sum.elapsed.Round(time.Millisecond), rate)
	if ctx.Err() != nil {
		// Rows read but not yet written when the load stopped are in none
		// of the counts: the rerun loads them.
		fmt.Fprintf(cfg.out, "interrupted: %s\n", counts)
		fmt.Fprintf(cfg.out, "run again with the same -in and -db to complete (database %s)\n", cfg.db)
		return sum, context.Cause(ctx)
	}
	fmt.Fprintln(cfg.out, counts)
	fmt.Fprintf(cfg.out, "table orders in %s", cfg.db)
	if sum.rejected+sum.duplicates > 0 {
		fmt.Fprintf(cfg.out, "; rejected and duplicate rows in %s", cfg.rejects)
	}
	fmt.Fprintln(cfg.out)
	return sum, nil
}

// parse turns a record into an order, or says what is wrong with it.
func parse(_ context.Context, rec record) (order, error) {
	if rec.err != nil {
		return order{}, fmt.Errorf("not valid CSV: %w", rec.err)
	}
	if len(rec.fields) != 3 {
		return order{}, fmt.Errorf("%d fields, want 3 (id,name,amount)", len(rec.fields))
	}
	id, err := strconv.ParseInt(strings.TrimSpace(rec.fields[0]), 10, 64)
	if err != nil {
		return order{}, fmt.Errorf("id %q is not a number", rec.fields[0])
	}
	name := strings.TrimSpace(rec.fields[1])
	if name == "" {
		return order{}, errors.New("name is empty")
	}
	amount, err := strconv.ParseFloat(strings.TrimSpace(rec.fields[2]), 64)
	if err != nil || math.IsNaN(amount) || math.IsInf(amount, 0) {
		return order{}, fmt.Errorf("amount %q is not a number", rec.fields[2])
	}
	return order{line: rec.line, id: id, name: name, amount: amount, raw: rec.raw}, nil
}

func openDB(ctx context.Context, path string) (*sql.DB, error) {
	// With a write-ahead log and synchronous=NORMAL a commit does not wait
	// for the disk: a crash may lose the last batches, never half of one,
	// and a rerun writes them again.
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, err
	}
	// One writer: SQLite serialises writes anyway.
	db.SetMaxOpenConns(1)
	// Each row keeps the file and line it came from, so that a rerun can
	// tell a row it loaded before from a duplicate.
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL NOT NULL, source TEXT NOT NULL, line INTEGER NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, `SELECT source, line FROM orders LIMIT 0`); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: its orders table has no source and line columns: give another -db (%w)", path, err)
	}
	return db, nil
}

// duplicate is a row whose id an earlier row already loaded.
type duplicate struct {
	line   int
	reason string
	raw    []byte
}

// insert writes one batch in one transaction, and returns the rows it did
// not write because their id was already taken by another row.
func insert(ctx context.Context, db *sql.DB, source string, b []order) ([]duplicate, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // a no-op after Commit
	// A row loaded again by a rerun, from the same file and line, replaces
	// itself; a row whose id is taken by another row changes nothing, and
	// is a duplicate: the first row with an id wins.
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO orders (id, name, amount, source, line) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, amount = excluded.amount
		WHERE orders.source = excluded.source AND orders.line = excluded.line`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	var dups []duplicate
	for _, o := range b {
		res, err := stmt.ExecContext(ctx, o.id, o.name, o.amount, source, o.line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", o.line, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		if n == 1 {
			continue // inserted, or replaced itself
		}
		var first string
		var line int
		if err := tx.QueryRowContext(ctx, `SELECT source, line FROM orders WHERE id = ?`, o.id).Scan(&first, &line); err != nil {
			return nil, fmt.Errorf("line %d: %w", o.line, err)
		}
		where := fmt.Sprintf("line %d", line)
		if first != source {
			where = fmt.Sprintf("%s:%d", first, line)
		}
		dups = append(dups, duplicate{o.line, fmt.Sprintf("duplicate id %d, loaded from %s", o.id, where), o.raw})
	}
	return dups, tx.Commit()
}

// rejectFile is the CSV of the rows not loaded: line, reason, raw row. It is
// written to a temporary file that commit renames into place, so that the
// rejects of the run before stay until this run's are complete. The parse
// workers and the writer call write concurrently.
type rejectFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
	w    *csv.Writer
}

func newRejectFile(path string) (*rejectFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	w := csv.NewWriter(f)
	if err := w.Write([]string{"line", "reason", "raw"}); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &rejectFile{path: path, f: f, w: w}, nil
}

func (r *rejectFile) write(line int, reason string, raw []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.w.Write([]string{strconv.Itoa(line), reason, string(raw)})
}

// commit puts the file in place.
func (r *rejectFile) commit() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Flush()
	if err := r.w.Error(); err != nil {
		return err
	}
	if err := r.f.Close(); err != nil {
		return err
	}
	return os.Rename(r.f.Name(), r.path)
}

// discard removes the temporary file if commit did not rename it.
func (r *rejectFile) discard() {
	r.f.Close()
	os.Remove(r.f.Name())
}

// recorder keeps what the CSV reader reads, so that a record's text can be
// taken by its offsets in the input.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64 // input offset of buf[0]
}

func (t *recorder) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// take returns a copy of the input from offset from to offset to, and
// forgets everything before to.
func (t *recorder) take(from, to int64) []byte {
	raw := bytes.Clone(t.buf[from-t.base : to-t.base])
	t.buf = t.buf[to-t.base:]
	t.base = to
	return raw
}

// startProgress prints a progress line every cfg.every until stop is
// called; stop waits for its goroutine and may be called more than once.
func startProgress(cfg config, read, written, rejected, duplicates *atomic.Int64) (stop func()) {
	if cfg.every == 0 || cfg.progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(cfg.every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(cfg.progress, "etl: %d rows read, %d written, %d duplicates, %d rejected\n",
					read.Load(), written.Load(), duplicates.Load(), rejected.Load())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-exited
		})
	}
}

// openInput opens the -in file, or generates the CSV. Once ctx is done, the
// input is closed, so that a read waiting on a pipe or a slow disk returns.
func openInput(ctx context.Context, cfg config) (io.ReadCloser, string, error) {
	var rc io.ReadCloser
	name := "generated"
	if cfg.in != "" {
		f, err := os.Open(cfg.in)
		if err != nil {
			return nil, "", err
		}
		rc, name = f, cfg.in
	} else {
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			pw.CloseWithError(generate(pw, cfg.rows))
		}()
		rc = generated{pr, done}
	}
	in := &closeOnDone{ReadCloser: rc}
	in.stop = context.AfterFunc(ctx, func() { in.close() })
	return in, name, nil
}

// closeOnDone closes its input when the context ends or Close is called,
// whichever comes first.
type closeOnDone struct {
	io.ReadCloser
	stop func() bool
	once sync.Once
	err  error
}

func (c *closeOnDone) close() {
	c.once.Do(func() { c.err = c.ReadCloser.Close() })
}

func (c *closeOnDone) Close() error {
	c.stop()
	c.close()
	return c.err
}

// signalNumber is sig's number, for the exit status a shell expects of a
// program stopped by it.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 1
}

// generated is the read end of the generated CSV. Close stops the writer,
// whose next write fails, and waits for its goroutine to exit.
type generated struct {
	*io.PipeReader
	done chan struct{}
}

func (g generated) Close() error {
	err := g.PipeReader.Close()
	<-g.done
	return err
}

// generate writes n deterministic rows; every 50th has an empty name and is
// rejected by parse.
func generate(w io.Writer, n int) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"id", "name", "amount"}); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("customer-%d", i%997)
		if i%50 == 0 {
			name = ""
		}
		amount := strconv.FormatFloat(float64(i%10_000)/100, 'f', 2, 64)
		if err := cw.Write([]string{strconv.Itoa(i), name, amount}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
