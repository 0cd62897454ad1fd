package weft_test

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/weftgo/weft"
)

func TestPanicErrorMessage(t *testing.T) {
	tests := []struct {
		value any
		want  string
	}{
		{"boom", "weft: panic: boom"},
		{42, "weft: panic: 42"},
		{io.EOF, "weft: panic: EOF"},
	}
	for _, tt := range tests {
		pe := &weft.PanicError{Value: tt.value}
		if got := pe.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestPanicErrorUnwrap(t *testing.T) {
	pe := &weft.PanicError{Value: io.EOF}
	if !errors.Is(pe, io.EOF) {
		t.Errorf("errors.Is(%v, io.EOF) = false, want true", pe)
	}
	if got := (&weft.PanicError{Value: "text"}).Unwrap(); got != nil {
		t.Errorf("Unwrap() of a string value = %v, want nil", got)
	}
	var wrapped error = fmt.Errorf("task 3: %w", pe)
	var got *weft.PanicError
	if !errors.As(wrapped, &got) || got != pe {
		t.Errorf("errors.As(%v) did not find the *PanicError", wrapped)
	}
}

func TestPanicErrorFormat(t *testing.T) {
	pe := &weft.PanicError{Value: "boom", Stack: debug.Stack()}
	if got := fmt.Sprintf("%v", pe); got != "weft: panic: boom" {
		t.Errorf("%%v = %q, want %q", got, "weft: panic: boom")
	}
	if got := fmt.Sprintf("%s", pe); got != "weft: panic: boom" {
		t.Errorf("%%s = %q, want %q", got, "weft: panic: boom")
	}
	if got := fmt.Sprintf("%q", pe); got != `"weft: panic: boom"` {
		t.Errorf("%%q = %s, want %q", got, "weft: panic: boom")
	}
	plus := fmt.Sprintf("%+v", pe)
	if !strings.HasPrefix(plus, "weft: panic: boom\n") || !strings.Contains(plus, "TestPanicErrorFormat") {
		t.Errorf("%%+v = %q, want the message followed by the stack", plus)
	}
}
