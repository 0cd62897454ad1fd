package retry

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// httpDate are the date formats HTTP/1.1 accepts (RFC 9110, section 5.6.7):
// the preferred IMF-fixdate, then the obsolete RFC 850 and asctime forms.
var httpDate = [...]string{
	"Mon, 02 Jan 2006 15:04:05 GMT",
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
}

// ParseRetryAfter reads the value of an HTTP Retry-After header, either a
// number of seconds or an HTTP date, and returns how long to wait from now.
// A date in the past gives 0; a number of seconds too large for a Duration
// gives the largest Duration. It reports false, with 0, if the value is
// neither. Use it with [After]:
//
//	if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
//		return retry.After(err, d)
//	}
//
// It takes the header's value rather than an http.Header so that the
// package does not depend on net/http.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if strings.Trim(value, "0123456789") == "" {
		// All digits: the only error ParseInt can return is out of range.
		secs, err := strconv.ParseInt(value, 10, 64)
		if err != nil || secs > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	for _, layout := range httpDate {
		if t, err := time.Parse(layout, value); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	return 0, false
}
