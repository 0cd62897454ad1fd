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

// ParseRetryAfter reads an HTTP Retry-After header value, seconds or an HTTP
// date, as a wait from now for [After]: a past date gives 0, too many seconds
// the largest Duration. It reports false, with 0, if the value is neither.
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
