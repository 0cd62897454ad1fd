package pool_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// An option that cannot apply to a constructor does not compile with it.
// Each of these lines fails to build, which Go cannot test directly:
//
//	pool.New(ctx, 4, pool.Retry(p))                        // Retry is a WorkersOption
//	pool.New(ctx, 4, pool.IdleTimeout(time.Second))        // IdleTimeout is a WorkersOption
//	pool.NewResultPool[int](ctx, 4, pool.OnDone(hook))     // OnDone is a WorkersOption
//	pool.NewWorkers(ctx, 4, handle, pool.FailFast(true))   // FailFast is a PoolOption
//	pool.NewWorkers(ctx, 4, handle, pool.Repanic(true))    // Repanic is a PoolOption
//
// TestOptionsApplyOnlyWhereTheyCompile checks the same thing through the
// types: whether each option's result type is assignable to each
// constructor's option parameter. A job-type mismatch (OnDone[string] given
// to a Workers[int]) does compile, and panics in NewWorkers instead.
func TestOptionsApplyOnlyWhereTheyCompile(t *testing.T) {
	param := func(ctor any) reflect.Type {
		ft := reflect.TypeOf(ctor)
		return ft.In(ft.NumIn() - 1).Elem() // the variadic ...Option
	}
	result := func(opt any) reflect.Type { return reflect.TypeOf(opt).Out(0) }
	newPool := param(pool.New)
	newResultPool := param(pool.NewResultPool[int])
	newWorkers := param(pool.NewWorkers[int])

	tests := []struct {
		option        string
		result        reflect.Type
		pool, workers bool
	}{
		{"FailFast", result(pool.FailFast), true, false},
		{"Repanic", result(pool.Repanic), true, false},
		{"Buffer", result(pool.Buffer), true, true},
		{"IdleTimeout", result(pool.IdleTimeout), false, true},
		{"Retry", result(pool.Retry), false, true},
		{"DeadLetter", result(pool.DeadLetter[int]), false, true},
		{"OnDone", result(pool.OnDone[int]), false, true},
		{"OnEvent", result(pool.OnEvent[int]), false, true},
		{"PropagateValues", result(pool.PropagateValues), false, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.pool, tt.result.AssignableTo(newPool), "%s given to New", tt.option)
		assert.Equal(t, tt.pool, tt.result.AssignableTo(newResultPool), "%s given to NewResultPool", tt.option)
		assert.Equal(t, tt.workers, tt.result.AssignableTo(newWorkers), "%s given to NewWorkers", tt.option)
	}
}

// Buffer's one value configures every constructor.
func TestBufferIsEveryConstructorsOption(t *testing.T) {
	ctx := context.Background()
	b := pool.Buffer(1)
	p := pool.New(ctx, 1, b)
	r := pool.NewResultPool[int](ctx, 1, b)
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return nil }, b, pool.IdleTimeout(time.Minute), pool.Retry(retry.New()))
	assert.NoError(t, p.Wait())
	_, err := r.Wait()
	assert.NoError(t, err)
	assert.NoError(t, w.Close(ctx))
}
