package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/weftgo/weft/pipeline"
	"github.com/weftgo/weft/retry"
)

// A stage looks each row up with a retry policy and hands the rows the
// policy gives up on to a retry.DeadLetter sink through OnError; the
// pipeline goes on with the others.
func ExampleOnError_deadLetter() {
	ctx := context.Background()
	policy := retry.New(retry.Attempts(3), retry.Constant(0))
	sink := retry.DeadLetterFunc[string](func(_ context.Context, l retry.Letter[string]) error {
		fmt.Printf("dead letter %q after %d attempts: %v\n", l.Item, l.Attempts, l.Err)
		return nil
	})

	// lookup stands in for a call to a service that keeps failing for "x".
	lookup := func(_ context.Context, row string) (int, error) {
		if row == "x" {
			return 0, errors.New("service unavailable")
		}
		return strconv.Atoi(row)
	}
	enrich := func(ctx context.Context, row string) (int, error) {
		return retry.Do(ctx, policy, func(ctx context.Context) (int, error) { return lookup(ctx, row) })
	}
	nums := pipeline.Map(pipeline.FromSlice(ctx, []string{"1", "x", "3"}), enrich,
		pipeline.OnError(func(ctx context.Context, row string, err error) error {
			var re *retry.Error
			attempts := 1
			if errors.As(err, &re) {
				attempts = re.Attempts
			}
			now := time.Now()
			return sink.DeadLetter(ctx, retry.Letter[string]{Item: row, Err: err, Attempts: attempts, First: now, Last: now})
		}))
	got, err := pipeline.Collect(nums)
	fmt.Println(got, err)
	// Output:
	// dead letter "x" after 3 attempts: retry: attempts exhausted after 3 attempts: service unavailable
	// [1 3] <nil>
}
