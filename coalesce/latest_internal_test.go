package coalesce

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aheadWaits returns how many versions ahead of l's readers wait for.
func aheadWaits[T any](l *Latest[T]) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ahead)
}

// A reader that waits in Next for a version ahead of the current one and
// gives up leaves nothing behind, so abandoned waits cannot pile up; a wait
// others still share stays until a Set reaches it.
func TestLatestNextThatGivesUpLeavesNoWaitBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLatest[int]()
		gone, cancel := context.WithCancel(context.Background())
		cancel()
		for i := range 100 {
			_, _, err := l.Next(gone, 10+uint64(i))
			require.ErrorIs(t, err, context.Canceled)
		}
		assert.Equal(t, 0, aheadWaits(l), "waits left by readers that gave up")

		// Two readers wait for a version after 3; one gives up.
		ctx, leave := context.WithCancel(context.Background())
		got := make(chan uint64)
		go func() {
			_, v, _ := l.Next(context.Background(), 3)
			got <- v
		}()
		go func() {
			l.Next(ctx, 3)
			got <- 0
		}()
		synctest.Wait()
		leave()
		assert.Equal(t, uint64(0), <-got)
		assert.Equal(t, 1, aheadWaits(l), "the wait of the reader still there")
		for range 4 {
			l.Set(1)
		}
		assert.Equal(t, uint64(4), <-got)
		assert.Equal(t, 0, aheadWaits(l))

		// Changed cannot tell when its caller is gone: its wait stays until
		// a Set passes it.
		ch := l.Changed(6)
		assert.Equal(t, 1, aheadWaits(l))
		l.Set(1)
		l.Set(1)
		select {
		case <-ch:
			t.Fatal("Changed(6) fired at version 6")
		default:
		}
		l.Set(1)
		<-ch
		assert.Equal(t, 0, aheadWaits(l))
	})
}
