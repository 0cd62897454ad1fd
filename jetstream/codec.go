package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Codec turns jobs into message bodies and back; its methods must be safe for
// concurrent use.
type Codec[J any] interface {
	Encode(job J) ([]byte, error)
	Decode(data []byte) (J, error)
}

// JSON is the default [Codec]: encoding/json.
type JSON[J any] struct{}

// Encode returns json.Marshal(job).
func (JSON[J]) Encode(job J) ([]byte, error) { return json.Marshal(job) }

// Decode unmarshals data into a new J.
func (JSON[J]) Decode(data []byte) (J, error) {
	var job J
	err := json.Unmarshal(data, &job)
	return job, err
}

// ErrEncode is matched by the error [Queue.Submit] returns when the codec
// cannot encode a job; the codec's error is in the chain too.
var ErrEncode = errors.New("jetstream: cannot encode job")

// DecodeError is the error of a message the codec could not decode: its job
// goes straight to the dead letters, with J's zero value, never reaching the
// handler.
type DecodeError struct {
	// Data is the message body as it was stored.
	Data []byte
	// Err is the codec's error.
	Err error
}

// Error returns "jetstream: cannot decode job: " and the codec's error.
func (e *DecodeError) Error() string { return fmt.Sprintf("jetstream: cannot decode job: %v", e.Err) }

// Unwrap returns the codec's error.
func (e *DecodeError) Unwrap() error { return e.Err }
