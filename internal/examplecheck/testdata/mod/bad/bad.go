package bad

// Lost has no example.
func Lost() {}

// Gone has no example either.
type Gone struct{}

// NewGone is a constructor whose type has no example.
func NewGone() *Gone { return nil }

// Unused is an option no example passes.
func Unused() Option { return nil }

// Option configures nothing.
type Option interface{}

func unexported() {}
