package retry_test

import (
	"context"
	"fmt"
	"time"

	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/retry"
)

// Retry goes outside the breaker: each attempt asks the breaker first, and
// an attempt the open breaker turns away waits out the breaker's RetryAfter
// (HonorRetryAfter) instead of calling a dependency that is known to be down.
func Example_breaker() {
	b := breaker.New(breaker.ConsecutiveFailures(2), breaker.OpenFor(20*time.Millisecond))
	policy := retry.New(
		retry.Attempts(10),
		retry.Constant(time.Millisecond),
		retry.HonorRetryAfter(time.Second),
	)
	downstreamCalls := 0
	v, err := retry.Do(context.Background(), policy, func(ctx context.Context) (string, error) {
		return breaker.Do(ctx, b, func(ctx context.Context) (string, error) {
			downstreamCalls++
			if downstreamCalls <= 2 {
				return "", errUnavailable // two failures open the breaker
			}
			return "ok", nil
		})
	})
	fmt.Println(v, err)
	fmt.Println("downstream calls:", downstreamCalls, "breaker:", b.State())
	// Output:
	// ok <nil>
	// downstream calls: 3 breaker: closed
}
