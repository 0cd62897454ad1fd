package retry_test

import (
	"testing"
	"time"

	"github.com/weftgo/weft/retry"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 7 ", 7 * time.Second, true},
		{"007", 7 * time.Second, true},
		{"9223372036", 9223372036 * time.Second, true},
		{"9223372037", maxDuration, true},
		{"99999999999999999999999", maxDuration, true},
		{"Tue, 01 Jan 2030 12:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 01-Jan-30 12:01:00 GMT", time.Minute, true},
		{"Tue Jan  1 12:00:05 2030", 5 * time.Second, true},
		{"Tue, 01 Jan 2030 11:00:00 GMT", 0, true}, // in the past
		{"", 0, false},
		{"   ", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"12abc", 0, false},
		{"soon", 0, false},
		{"2030-01-01T12:00:30Z", 0, false},
	}
	for _, tt := range tests {
		got, ok := retry.ParseRetryAfter(tt.value, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}
