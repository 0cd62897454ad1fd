package jetstream

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The headers of a dead letter as the default sink stores it. The body is
// the job's message body as it was submitted, so that a letter can be
// decoded with the queue's codec, or submitted again as it is.
const (
	// HeaderJobID holds the job's ID from [Queue.SubmitID], if it had one.
	HeaderJobID = "Weft-Job-Id"
	// HeaderError holds the job's final error, on one line.
	HeaderError = "Weft-Error"
	// HeaderAttempts holds the number of attempts, in decimal.
	HeaderAttempts = "Weft-Attempts"
	// HeaderFirst and HeaderLast hold the times of the first and the last
	// attempt, in RFC 3339 with nanoseconds.
	HeaderFirst = "Weft-First"
	HeaderLast  = "Weft-Last"
	// HeaderSequence holds the job's sequence number in the queue's stream.
	HeaderSequence = "Weft-Sequence"
)

// Letter is a dead letter as the default sink stores it: a job the retry
// policy gave up on, that panicked, or that could not be decoded.
type Letter struct {
	// Data is the job's message body: decode it with the queue's codec.
	Data []byte
	// JobID is the ID the job was submitted with, or "".
	JobID string
	// Err is the job's final error, as its Error method wrote it.
	Err string
	// Attempts is how many times the job was delivered.
	Attempts int
	// First is when the job was stored; Last, when its last attempt ended.
	First, Last time.Time
	// Sequence is the job's sequence number in the queue's stream.
	Sequence uint64
}

// ParseLetter reads a dead letter from a message's headers and body, such as
// a jetstream.Msg's Headers() and Data(). It returns an error if a header is
// missing or malformed.
func ParseLetter(h nats.Header, data []byte) (Letter, error) {
	l := Letter{Data: data, JobID: h.Get(HeaderJobID), Err: h.Get(HeaderError)}
	var errs []error
	n, err := strconv.Atoi(h.Get(HeaderAttempts))
	errs = append(errs, err)
	l.Attempts = n
	l.First, err = time.Parse(time.RFC3339Nano, h.Get(HeaderFirst))
	errs = append(errs, err)
	l.Last, err = time.Parse(time.RFC3339Nano, h.Get(HeaderLast))
	errs = append(errs, err)
	l.Sequence, err = strconv.ParseUint(h.Get(HeaderSequence), 10, 64)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return Letter{}, fmt.Errorf("jetstream: parse letter: %w", err)
	}
	return l, nil
}

// letterMsg builds the message the default sink publishes for a job.
// Its Nats-Msg-Id is derived from the job's place in the queue's stream,
// so a letter published again after a lost acknowledgement is dropped as
// a duplicate.
func letterMsg(subject, queue string, m jetstream.Msg, md *jetstream.MsgMetadata, err error, attempts int, first, last time.Time) *nats.Msg {
	h := nats.Header{}
	h.Set(jetstream.MsgIDHeader, queue+"-"+strconv.FormatUint(md.Sequence.Stream, 10))
	if id := m.Headers().Get(jetstream.MsgIDHeader); id != "" {
		h.Set(HeaderJobID, id)
	}
	h.Set(HeaderError, oneLine(err.Error()))
	h.Set(HeaderAttempts, strconv.Itoa(attempts))
	h.Set(HeaderFirst, first.UTC().Format(time.RFC3339Nano))
	h.Set(HeaderLast, last.UTC().Format(time.RFC3339Nano))
	h.Set(HeaderSequence, strconv.FormatUint(md.Sequence.Stream, 10))
	return &nats.Msg{Subject: subject, Header: h, Data: m.Data()}
}

// oneLine makes s fit in a header value.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}
