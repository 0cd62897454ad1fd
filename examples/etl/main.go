// Command etl loads a CSV of orders into SQLite through a weft pipeline:
//
//	read CSV ─▶ parse (4 workers, order kept) ─▶ reject bad rows ─▶ batch 500 rows or 100ms ─▶ one transaction per batch
//
// By default it generates the CSV itself (deterministic; one row in 50 is
// bad); -in reads a file instead. Bad rows (a missing name, an amount that is
// not a number) go to an error report on stderr and the load goes on; a file
// that is not valid CSV stops it with an error naming the file and line.
// Each batch is one transaction, and a row loaded again replaces the one
// before: a load stopped by an error or a signal leaves whole batches
// behind, and running it again completes it.
//
//	go -C examples run ./etl
//	go -C examples run ./etl -in orders.csv -db orders.db
package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weftgo/weft/pipeline"
	_ "modernc.org/sqlite" // pure Go SQLite driver, no cgo
)

// config is what the flags set; tests build one directly.
type config struct {
	in      string        // CSV file; generated when empty
	rows    int           // rows to generate
	db      string        // SQLite file; a temporary one when empty
	workers int           // parse workers
	batch   int           // rows per transaction
	wait    time.Duration // longest a row waits for its batch to fill
	report  io.Writer     // where rejected rows are reported
	out     io.Writer     // where the summary goes

	// failWrite, when set, is called before each batch is written; an error
	// from it fails the load. Tests use it to break the writer.
	failWrite func(batch int) error
}

// check reports a flag value the load cannot work with.
func (c config) check() error {
	switch {
	case c.rows < 0:
		return fmt.Errorf("-rows %d: need zero or more", c.rows)
	case c.workers < 1:
		return fmt.Errorf("-workers %d: need at least one", c.workers)
	case c.batch < 1:
		return fmt.Errorf("-batch %d: need at least one row", c.batch)
	case c.wait < 0:
		return fmt.Errorf("-wait %v: need zero or more", c.wait)
	}
	return nil
}

// order is one parsed row.
type order struct {
	line   int
	id     int64
	name   string
	amount float64
}

// record is one raw CSV record with its line number, for error messages.
type record struct {
	line   int
	fields []string
}

// summary is what a load did.
type summary struct {
	read, rejected, written int64
	elapsed                 time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.in, "in", "", "CSV file to load (id,name,amount); generated when empty")
	flag.IntVar(&cfg.rows, "rows", 100_000, "rows to generate when -in is empty")
	flag.StringVar(&cfg.db, "db", "", "SQLite database file; a temporary one when empty")
	flag.IntVar(&cfg.workers, "workers", 4, "parse workers")
	flag.IntVar(&cfg.batch, "batch", 500, "rows per transaction")
	flag.DurationVar(&cfg.wait, "wait", 100*time.Millisecond, "longest a row waits for its batch to fill")
	flag.Parse()
	cfg.report, cfg.out = os.Stderr, os.Stdout
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "etl:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "etl:", err)
		os.Exit(1)
	}
}

// run loads the CSV into the database and prints the summary.
func run(ctx context.Context, cfg config) (summary, error) {
	var sum summary
	start := time.Now()

	src, name, err := openInput(cfg)
	if err != nil {
		return sum, err
	}
	defer src.Close()

	dbPath := cfg.db
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "etl")
		if err != nil {
			return sum, err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "orders.db")
	}
	db, err := openDB(ctx, dbPath)
	if err != nil {
		return sum, err
	}
	defer db.Close()

	var read, rejected, written atomic.Int64

	// Source: the CSV reader runs on the pipeline's goroutine; a malformed
	// file fails the pipeline with the file and line in the error.
	records := pipeline.Generate(ctx, func(ctx context.Context, emit func(record) error) error {
		r := csv.NewReader(src)
		r.FieldsPerRecord = 3
		r.ReuseRecord = false
		for {
			fields, err := r.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					return fmt.Errorf("%s:%d: %w", name, pe.StartLine, pe.Err)
				}
				return fmt.Errorf("%s: %w", name, err)
			}
			line, _ := r.FieldPos(0)
			if line == 1 && strings.TrimPrefix(fields[0], "\ufeff") == "id" {
				continue // header, with or without the byte-order mark Excel writes
			}
			read.Add(1)
			if err := emit(record{line: line, fields: fields}); err != nil {
				return err
			}
		}
	}, pipeline.Name("read"))

	// Parse with several workers; Map keeps the input order. A bad row is
	// not a reason to stop the load: OnError reports it and the stage goes
	// on. That is the dead-letter path of a pipeline. The handler runs on
	// the parse workers, so it guards the report writer.
	var reportMu sync.Mutex
	orders := pipeline.Map(records, parse,
		pipeline.Workers(cfg.workers),
		pipeline.Name("parse"),
		pipeline.OnError(func(_ context.Context, rec record, err error) error {
			rejected.Add(1)
			reportMu.Lock()
			defer reportMu.Unlock()
			_, werr := fmt.Fprintf(cfg.report, "%s:%d: rejected: %v\n", name, rec.line, err)
			return werr // a report that cannot be written stops the load
		}))

	// One transaction per 500 rows, or per 100ms of a trickle.
	batches := pipeline.Batch(orders, cfg.batch, cfg.wait)
	n := 0
	err = pipeline.ForEach(batches, func(ctx context.Context, b []order) error {
		n++
		if cfg.failWrite != nil {
			if err := cfg.failWrite(n); err != nil {
				return err
			}
		}
		if err := insert(ctx, db, name, b); err != nil {
			return err
		}
		written.Add(int64(len(b)))
		return nil
	}, pipeline.Name("write"))

	sum = summary{read: read.Load(), rejected: rejected.Load(), written: written.Load(), elapsed: time.Since(start)}
	if err != nil {
		return sum, err
	}
	rate := float64(sum.read) / sum.elapsed.Seconds()
	fmt.Fprintf(cfg.out, "rows read %d, rejected %d, written %d in %v (%.0f rows/s)\n",
		sum.read, sum.rejected, sum.written, sum.elapsed.Round(time.Millisecond), rate)
	return sum, nil
}

// parse turns a record into an order, or says what is wrong with it.
func parse(_ context.Context, rec record) (order, error) {
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
	return order{line: rec.line, id: id, name: name, amount: amount}, nil
}

func openDB(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	// One writer: SQLite serialises writes anyway.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return db, nil
}

// insert writes one batch in one transaction.
func insert(ctx context.Context, db *sql.DB, name string, b []order) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op after Commit
	// An upsert: a row loaded again, by a rerun after a stop or a
	// duplicate id in the file, replaces the one before, so a load can
	// always be run again to completion.
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO orders (id, name, amount) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, amount = excluded.amount`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, o := range b {
		if _, err := stmt.ExecContext(ctx, o.id, o.name, o.amount); err != nil {
			return fmt.Errorf("%s:%d: %w", name, o.line, err)
		}
	}
	return tx.Commit()
}

// openInput opens the -in file, or generates the CSV.
func openInput(cfg config) (io.ReadCloser, string, error) {
	if cfg.in != "" {
		f, err := os.Open(cfg.in)
		if err != nil {
			return nil, "", err
		}
		return f, cfg.in, nil
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(generate(pw, cfg.rows))
	}()
	return generated{pr, done}, "generated", nil
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
