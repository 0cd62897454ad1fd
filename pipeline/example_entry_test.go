package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/weftgo/weft/pipeline"
)

// FromSlice starts a pipeline from a slice; the sink joins every stage.
func ExampleFromSlice() {
	ctx := context.Background()
	words := pipeline.FromSlice(ctx, []string{"weft", "warp", "loom"})
	upper := pipeline.Map(words, func(_ context.Context, w string) (string, error) {
		return strings.ToUpper(w), nil
	})
	got, err := pipeline.Collect(upper)
	fmt.Println(got, err)
	// Output: [WEFT WARP LOOM] <nil>
}

// Map with four workers runs four calls at once and still hands the results
// on in input order, however long each call takes.
func ExampleMap() {
	ctx := context.Background()
	ids := pipeline.FromSlice(ctx, []int{1, 2, 3, 4, 5, 6, 7, 8})
	names := pipeline.Map(ids, func(_ context.Context, id int) (string, error) {
		time.Sleep(time.Duration(8-id) * time.Millisecond) // later items finish first
		return fmt.Sprintf("user-%d", id), nil
	}, pipeline.Concurrency(4), pipeline.Name("lookup"))
	got, err := pipeline.Collect(names)
	fmt.Println(got, err)
	// Output: [user-1 user-2 user-3 user-4 user-5 user-6 user-7 user-8] <nil>
}

// Filter keeps the items its function accepts, in order; an error from the
// function fails the pipeline, named by the stage.
func ExampleFilter() {
	ctx := context.Background()
	lines := pipeline.FromSlice(ctx, []string{"id,name", "1,ada", "", "2,grace"})
	rows := pipeline.Filter(lines, func(_ context.Context, line string) (bool, error) {
		return line != "" && !strings.HasPrefix(line, "id,"), nil // skip blanks and the header
	})
	got, err := pipeline.Collect(rows)
	fmt.Println(got, err)
	// Output: [1,ada 2,grace] <nil>
}
