package fanout_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/fanout"
)

func TestDistributeFirstReady(t *testing.T) {
	d := fanout.Distribute(context.Background(), filled(ints(100)...), 4)
	outs := d.Outputs()
	for i := range outs {
		if outs[i] != outs[0] {
			t.Fatal("first-ready outputs are not one shared channel")
		}
	}
	var all []int
	for _, got := range drainAll(outs) {
		if !slices.IsSorted(got) {
			t.Errorf("an output got %v, out of order", got)
		}
		all = append(all, got...)
	}
	slices.Sort(all)
	if !slices.Equal(all, ints(100)) {
		t.Fatalf("outputs got %v together, want 0..99 once each", all)
	}
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestDistributeRoundRobin(t *testing.T) {
	d := fanout.Distribute(context.Background(), filled(ints(10)...), 3, fanout.RoundRobin())
	got := drainAll(d.Outputs())
	want := [][]int{{0, 3, 6, 9}, {1, 4, 7}, {2, 5, 8}}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("output %d got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestDistributeByKey(t *testing.T) {
	type order struct {
		customer string
		n        int
	}
	var in []order
	for n := range 60 {
		in = append(in, order{[]string{"ann", "bob", "cid", "dee", "eve"}[n%5], n})
	}
	d := fanout.Distribute(context.Background(), filled(in...), 3, fanout.ByKey(func(o order) string { return o.customer }))
	at := map[string]int{} // customer → output
	total := 0
	for i, got := range drainAll(d.Outputs()) {
		last := map[string]int{}
		for _, o := range got {
			if j, ok := at[o.customer]; ok && j != i {
				t.Fatalf("customer %s at outputs %d and %d", o.customer, j, i)
			}
			at[o.customer] = i
			if n, ok := last[o.customer]; ok && o.n <= n {
				t.Fatalf("customer %s: order %d after %d", o.customer, o.n, n)
			}
			last[o.customer] = o.n
			total++
		}
	}
	if total != len(in) {
		t.Fatalf("got %d orders, want %d", total, len(in))
	}
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestDistributeKeyPanics(t *testing.T) {
	d := fanout.Distribute(context.Background(), filled(1, 2, 3), 2, fanout.ByKey(func(v int) int {
		if v == 2 {
			panic("bad key")
		}
		return v
	}))
	var all []int
	for _, got := range drainAll(d.Outputs()) {
		all = append(all, got...)
	}
	if !slices.Equal(all, []int{1}) {
		t.Fatalf("got %v, want [1]", all)
	}
	var pe *weft.PanicError
	if err := d.Wait(); !errors.As(err, &pe) || pe.Value != "bad key" {
		t.Fatalf("Wait() = %v, want a PanicError with value %q", err, "bad key")
	}
}

// The key function runs for every value however many outputs there are:
// with one output, a key function that panics stops the distribution as it
// does with two.
func TestDistributeByKeyCallsTheKeyFunctionWhateverTheOutputCount(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		calls := 0
		d := fanout.Distribute(context.Background(), filled(1, 2, 3), n, fanout.ByKey(func(v int) int {
			calls++
			if v == 2 {
				panic("bad key")
			}
			return v
		}))
		var all []int
		for _, got := range drainAll(d.Outputs()) {
			all = append(all, got...)
		}
		var pe *weft.PanicError
		err := d.Wait()
		if calls != 2 || !slices.Equal(all, []int{1}) || !errors.As(err, &pe) || pe.Value != "bad key" {
			t.Errorf("n=%d: key called %d times, delivered %v, Wait() = %v; want 2 calls, [1] and the panic", n, calls, all, err)
		}
	}
}

func TestDistributeKeyGoexit(t *testing.T) {
	d := fanout.Distribute(context.Background(), filled(1), 2, fanout.ByKey(func(v int) int {
		runtime.Goexit()
		return v
	}))
	drainAll(d.Outputs())
	if err := d.Wait(); !errors.Is(err, weft.ErrGoexit) {
		t.Fatalf("Wait() = %v, want weft.ErrGoexit", err)
	}
}

// A round-robin consumer that does not read holds up the others once its
// buffer is full; ctx ends it.
func TestDistributeSlowConsumerAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		in := make(chan int, 100)
		for i := range 100 {
			in <- i
		}
		d := fanout.Distribute(ctx, in, 2, fanout.RoundRobin(), fanout.Buffer(2))
		outs := d.Outputs()
		var fast []int
		done := make(chan struct{})
		go func() {
			defer close(done)
			fast = drain(outs[0])
		}()
		synctest.Wait()
		// Output 1 holds 1 and 3; the sender holds 5, blocked on it;
		// output 0 got 0, 2 and 4.
		if len(outs[1]) != 2 || len(in) != 100-6 {
			t.Fatalf("slow buffer %d, input left %d; want 2, 94", len(outs[1]), len(in))
		}
		time.Sleep(time.Hour)
		cancel()
		<-done
		if !slices.Equal(fast, []int{0, 2, 4}) {
			t.Fatalf("fast output got %v, want [0 2 4]", fast)
		}
		if got := drain(outs[1]); !slices.Equal(got, []int{1, 3}) {
			t.Fatalf("slow output got %v, want the buffered [1 3]", got)
		}
		if err := d.Wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait() = %v, want context.Canceled", err)
		}
	})
}

func TestDistributeCancelWhileIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		ctx, cancel := context.WithCancelCause(context.Background())
		d := fanout.Distribute(ctx, make(chan int), 3)
		synctest.Wait()
		cancel(errStop)
		if err := d.Wait(); !errors.Is(err, errStop) {
			t.Fatalf("Wait() = %v, want %v", err, errStop)
		}
		if !closedNow(d.Outputs()[2]) {
			t.Fatal("output open after ctx was done")
		}
	})
}

func TestDistributeStopsWhenEverythingIsReady(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan int, 64)
	go func() {
		for i := 0; ; i++ {
			select {
			case in <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	d := fanout.Distribute(ctx, in, 2, fanout.Buffer(64))
	out := d.Outputs()[0]
	for range 100 {
		<-out
	}
	cancel()
	for range out {
	}
	if err := d.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait() = %v, want context.Canceled", err)
	}
}

func TestDistributeMisuse(t *testing.T) {
	ctx := context.Background()
	in := make(chan int)
	tests := []struct {
		want string
		f    func()
	}{
		{"fanout: Distribute(n=-1): need at least one output", func() { fanout.Distribute(ctx, in, -1) }},
		{"fanout: Distribute with a nil input channel", func() { fanout.Distribute[int](ctx, nil, 1) }},
		{"fanout: Distribute with a nil context", func() {
			//lint:ignore SA1012 the nil context is the point of the test
			fanout.Distribute(nil, in, 1)
		}},
		{"fanout: Distribute: option OnFull applies to Broadcast only", func() {
			fanout.Distribute(ctx, in, 1, fanout.OnFull(fanout.DropNewest))
		}},
		{"fanout: Distribute: option ForOutput applies to Broadcast only", func() {
			fanout.Distribute(ctx, in, 1, fanout.ForOutput(0))
		}},
		{"fanout: Distribute: option OnDrop applies to Broadcast only", func() {
			fanout.Distribute(ctx, in, 1, fanout.OnDrop(func(int, int) {}))
		}},
		{"fanout: Distribute[int]: ByKey was given a func(string) string", func() {
			fanout.Distribute(ctx, in, 2, fanout.ByKey(func(s string) string { return s }))
		}},
		{"fanout: ByKey(nil)", func() { fanout.ByKey[int, int](nil) }},
		{"fanout: Distribute: nil Option", func() { fanout.Distribute(ctx, in, 1, nil) }},
	}
	for _, tt := range tests {
		wantPanic(t, tt.want, tt.f)
	}
}
