package fanout_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/fanout"
)

func TestBroadcastEveryValueToEveryOutput(t *testing.T) {
	b := fanout.Broadcast(context.Background(), filled(ints(100)...), 3)
	for i, got := range drainAll(b.Outputs()) {
		if !slices.Equal(got, ints(100)) {
			t.Errorf("output %d got %v, want 0..99", i, got)
		}
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("Wait() = %v, want nil", err)
	}
}

// With Block a consumer that does not read holds up the others once its
// buffer is full, and not before.
func TestBroadcastBlockSetsThePace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan int)
		b := fanout.Broadcast(context.Background(), in, 2, fanout.Buffer(2))
		outs := b.Outputs()
		sent := 0
		go func() {
			defer close(in)
			for i := range 10 {
				in <- i
				sent++
			}
		}()
		fast := make(chan int, 100)
		go func() {
			for v := range outs[0] {
				fast <- v
			}
			close(fast)
		}()
		synctest.Wait()
		// Output 1 holds 2 values and the sender holds the third, blocked
		// on output 1; the fast consumer got those three.
		if sent != 3 || len(fast) != 3 || len(outs[1]) != 2 {
			t.Fatalf("sent %d, fast got %d, slow buffer %d; want 3, 3, 2", sent, len(fast), len(outs[1]))
		}
		if got := drain(outs[1]); !slices.Equal(got, ints(10)) {
			t.Fatalf("slow output got %v, want 0..9", got)
		}
		if got := drain(fast); !slices.Equal(got, ints(10)) {
			t.Fatalf("fast output got %v, want 0..9", got)
		}
		if err := b.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBroadcastDropNewest(t *testing.T) {
	var dropped []int
	b := fanout.Broadcast(context.Background(), filled(ints(10)...), 2,
		fanout.ForOutput(1, fanout.OnFull(fanout.DropNewest), fanout.Buffer(3)),
		fanout.Buffer(10),
		fanout.OnDrop(func(out int, v int) { dropped = append(dropped, out*100+v) }),
	)
	if err := b.Wait(); err != nil { // nobody reads: output 0 has room for all
		t.Fatal(err)
	}
	got := drainAll(b.Outputs())
	if !slices.Equal(got[0], ints(10)) || !slices.Equal(got[1], []int{0, 1, 2}) {
		t.Fatalf("outputs got %v, want 0..9 and [0 1 2]", got)
	}
	if d := b.Dropped(1); d != 7 {
		t.Fatalf("Dropped(1) = %d, want 7", d)
	}
	if d := b.Dropped(0); d != 0 {
		t.Fatalf("Dropped(0) = %d, want 0", d)
	}
	if want := []int{103, 104, 105, 106, 107, 108, 109}; !slices.Equal(dropped, want) {
		t.Fatalf("OnDrop saw %v, want %v", dropped, want)
	}
}

func TestBroadcastDropOldest(t *testing.T) {
	var dropped []int
	b := fanout.Broadcast(context.Background(), filled(ints(10)...), 1,
		fanout.OnFull(fanout.DropOldest), fanout.Buffer(3),
		fanout.OnDrop(func(_ int, v int) { dropped = append(dropped, v) }),
	)
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := drain(b.Outputs()[0]); !slices.Equal(got, []int{7, 8, 9}) {
		t.Fatalf("output got %v, want the newest three [7 8 9]", got)
	}
	if d := b.Dropped(0); d != 7 {
		t.Fatalf("Dropped(0) = %d, want 7", d)
	}
	if want := ints(7); !slices.Equal(dropped, want) {
		t.Fatalf("OnDrop saw %v, want %v", dropped, want)
	}
}

// A consumer that unsubscribes while the sender waits for it frees the
// sender at once.
func TestBroadcastUnsubscribeWhileBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan int)
		b := fanout.Broadcast(context.Background(), in, 2, fanout.Buffer(0))
		outs := b.Outputs()
		go func() {
			defer close(in)
			for i := range 5 {
				in <- i
			}
		}()
		if v := <-outs[0]; v != 0 {
			t.Fatalf("got %d, want 0", v)
		}
		synctest.Wait() // the sender waits for output 1
		b.Unsubscribe(1)
		b.Unsubscribe(1) // twice does nothing
		if got := drain(outs[0]); !slices.Equal(got, []int{1, 2, 3, 4}) {
			t.Fatalf("output 0 got %v, want [1 2 3 4]", got)
		}
		if !closedNow(outs[1]) {
			t.Fatal("unsubscribed output not closed")
		}
		if err := b.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// An output that unsubscribes while a value is going out gets nothing more
// of it: not the value, not a drop. Here output 0's OnDrop unsubscribes
// output 1 in the middle of handing out a value that both are too full
// for.
func TestBroadcastUnsubscribeDuringAValue(t *testing.T) {
	in := make(chan int)
	var b *fanout.Broadcaster[int]
	var dropped []int
	ready := make(chan struct{})
	b = fanout.Broadcast(context.Background(), in, 2,
		fanout.Buffer(1), fanout.OnFull(fanout.DropNewest),
		fanout.OnDrop(func(out, v int) {
			<-ready
			dropped = append(dropped, out)
			if out == 0 {
				b.Unsubscribe(1)
			}
		}))
	close(ready)
	in <- 1 // fills both outputs
	in <- 2 // dropped on 0, whose hook unsubscribes 1
	close(in)
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := b.Dropped(1); got != 0 || !slices.Equal(dropped, []int{0}) {
		t.Fatalf("Dropped(1) = %d, OnDrop called for outputs %v; want 0 and [0]", got, dropped)
	}
}

// An OnDrop hook that unsubscribes the very output whose oldest value it
// was told about stops the write in progress: the output gets nothing from
// the moment it unsubscribed, not even the value that made room.
func TestBroadcastOnDropThatUnsubscribesItsOwnOutputStopsTheWrite(t *testing.T) {
	var b *fanout.Broadcaster[int]
	ready := make(chan struct{})
	b = fanout.Broadcast(context.Background(), filled(1, 2, 3), 2,
		fanout.ForOutput(0, fanout.Buffer(1), fanout.OnFull(fanout.DropOldest)),
		fanout.OnDrop(func(out, _ int) {
			<-ready
			b.Unsubscribe(out)
		}))
	close(ready)
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	got := drainAll(b.Outputs())
	if len(got[0]) != 0 || !slices.Equal(got[1], []int{1, 2, 3}) || b.Dropped(0) != 1 {
		t.Fatalf("outputs got %v, Dropped(0) = %d; want [] and [1 2 3], 1 drop", got, b.Dropped(0))
	}
}

// Unsubscribing closes the output soon even when no value is coming, and
// keeps what is buffered readable.
func TestBroadcastUnsubscribeWhileIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan int)
		b := fanout.Broadcast(context.Background(), in, 2)
		in <- 1
		synctest.Wait()
		b.Unsubscribe(0)
		synctest.Wait()
		outs := b.Outputs()
		if got := drain(outs[0]); !slices.Equal(got, []int{1}) {
			t.Fatalf("unsubscribed output gave %v, want the buffered [1] and a close", got)
		}
		in <- 2
		close(in)
		if got := drain(outs[1]); !slices.Equal(got, []int{1, 2}) {
			t.Fatalf("output 1 got %v, want [1 2]", got)
		}
		if err := b.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// Once every output has unsubscribed, the Broadcaster stops reading its
// input.
func TestBroadcastAllUnsubscribed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make(chan int, 10)
		b := fanout.Broadcast(context.Background(), in, 2)
		b.Unsubscribe(0)
		b.Unsubscribe(1)
		if err := b.Wait(); err != nil {
			t.Fatalf("Wait() = %v, want nil", err)
		}
		in <- 1
		if len(in) != 1 {
			t.Fatal("input read after every output unsubscribed")
		}
	})
}

// An unsubscribe that happens while values flow without waiting is seen
// before the next value.
func TestBroadcastUnsubscribeWhileFlowing(t *testing.T) {
	b := fanout.Broadcast(context.Background(), filled(ints(1000)...), 2, fanout.Buffer(1000))
	outs := b.Outputs()
	for range 10 {
		<-outs[1]
	}
	b.Unsubscribe(1)
	got := drain(outs[0])
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, ints(1000)) {
		t.Fatalf("output 0 got %d values, want all 1000", len(got))
	}
	if n := len(drain(outs[1])); n+10 > 1000 {
		t.Fatalf("output 1 got %d more values after unsubscribing", n)
	}
}

func TestBroadcastContextDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Second, errStop)
		defer cancel()
		in := make(chan int)
		b := fanout.Broadcast(ctx, in, 2, fanout.Buffer(0))
		go func() { in <- 1 }() // the sender waits for both outputs
		start := time.Now()
		if err := b.Wait(); !errors.Is(err, errStop) {
			t.Fatalf("Wait() = %v, want %v", err, errStop)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Wait returned after %v, want 1s", d)
		}
		for i, out := range b.Outputs() {
			if !closedNow(out) {
				t.Fatalf("output %d open after ctx was done", i)
			}
		}
	})
}

// When input and consumers never make it wait, the sender still stops soon
// after ctx ends.
func TestBroadcastStopsWhenEverythingIsReady(t *testing.T) {
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
	b := fanout.Broadcast(ctx, in, 1, fanout.OnFull(fanout.DropNewest))
	out := b.Outputs()[0]
	for range 100 {
		<-out
	}
	cancel()
	for range out {
	}
	if err := b.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait() = %v, want context.Canceled", err)
	}
}

func TestBroadcastOnDropPanics(t *testing.T) {
	b := fanout.Broadcast(context.Background(), filled(1, 2, 3), 1,
		fanout.OnFull(fanout.DropNewest), fanout.Buffer(1),
		fanout.OnDrop(func(int, int) { panic("hook") }),
	)
	var pe *weft.PanicError
	if err := b.Wait(); !errors.As(err, &pe) || pe.Value != "hook" {
		t.Fatalf("Wait() = %v, want a PanicError with value hook", err)
	}
	if got := drain(b.Outputs()[0]); !slices.Equal(got, []int{1}) {
		t.Fatalf("output got %v, want [1]", got)
	}
}

func TestBroadcastMisuse(t *testing.T) {
	ctx := context.Background()
	in := make(chan int)
	tests := []struct {
		want string
		f    func()
	}{
		{"fanout: Broadcast(n=0): need at least one output", func() { fanout.Broadcast(ctx, in, 0) }},
		{"fanout: Broadcast with a nil input channel", func() { fanout.Broadcast[int](ctx, nil, 1) }},
		{"fanout: Broadcast with a nil context", func() {
			//lint:ignore SA1012 the nil context is the point of the test
			fanout.Broadcast(nil, in, 1)
		}},
		{"fanout: Broadcast: option RoundRobin applies to Distribute only", func() { fanout.Broadcast(ctx, in, 1, fanout.RoundRobin()) }},
		{"fanout: Broadcast: option ByKey applies to Distribute only", func() {
			fanout.Broadcast(ctx, in, 1, fanout.ByKey(func(v int) int { return v }))
		}},
		{"fanout: Broadcast(n=2): ForOutput(2) names an output it does not have", func() {
			fanout.Broadcast(ctx, in, 2, fanout.ForOutput(2, fanout.Buffer(1)))
		}},
		{"fanout: Broadcast: output 1: OnFull(DropOldest) needs a Buffer of at least 1", func() {
			fanout.Broadcast(ctx, in, 2, fanout.OnFull(fanout.DropOldest), fanout.ForOutput(1, fanout.Buffer(0)))
		}},
		{"fanout: Broadcast[int]: OnDrop was given a func(int, string)", func() {
			fanout.Broadcast(ctx, in, 1, fanout.OnDrop(func(int, string) {}))
		}},
		{"fanout: Broadcast: nil Option", func() { fanout.Broadcast(ctx, in, 1, nil) }},
		{"fanout: OnDrop(nil)", func() { fanout.OnDrop[int](nil) }},
		{"fanout: OnFull(FullPolicy(7)): unknown policy", func() { fanout.OnFull(7) }},
		{"fanout: Buffer(-1): negative buffer", func() { fanout.Buffer(-1) }},
		{"fanout: ForOutput(-1): negative output index", func() { fanout.ForOutput(-1) }},
		{"fanout: ForOutput(0): only Buffer and OnFull can be set per output, not OnDrop", func() {
			fanout.ForOutput(0, fanout.OnDrop(func(int, int) {}))
		}},
		{"fanout: ForOutput(0): only Buffer and OnFull can be set per output, not <nil>", func() {
			fanout.ForOutput(0, nil)
		}},
		{"fanout: Broadcaster.Unsubscribe(2) with 2 outputs", func() {
			fanout.Broadcast(ctx, filled[int](), 2).Unsubscribe(2)
		}},
		{"fanout: Broadcaster.Dropped(-1) with 2 outputs", func() {
			fanout.Broadcast(ctx, filled[int](), 2).Dropped(-1)
		}},
	}
	for _, tt := range tests {
		wantPanic(t, tt.want, tt.f)
	}
}

func TestPolicyString(t *testing.T) {
	tests := []struct {
		p    fanout.FullPolicy
		want string
	}{
		{fanout.Block, "block"},
		{fanout.DropNewest, "drop newest"},
		{fanout.DropOldest, "drop oldest"},
		{fanout.FullPolicy(9), "FullPolicy(9)"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("Policy(%d).String() = %q, want %q", int(tt.p), got, tt.want)
		}
	}
}
