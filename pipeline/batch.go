package pipeline

import (
	"fmt"
	"time"
)

// Batch groups the items of s into slices of up to size items, in order. A
// batch goes out when it is full, or when maxWait has passed since its first
// item arrived, or when the input ends; a batch is never empty. With maxWait
// of zero, batches are cut by size and at the end of the input only.
//
// Each batch is a new slice that the consumer owns. Batch runs on one
// goroutine; it accepts [Buffer], [Chunk] and [Name]. It panics if size < 1
// or maxWait < 0, and on [Workers] or [OnError], which need a per-item
// function.
func Batch[T any](s *Stream[T], size int, maxWait time.Duration, opts ...Option) *Stream[[]T] {
	if size < 1 {
		panic(fmt.Sprintf("pipeline: Batch(size %d): need at least one item per batch", size))
	}
	if maxWait < 0 {
		panic(fmt.Sprintf("pipeline: Batch(maxWait %v): negative wait", maxWait))
	}
	s.consume()
	cfg := newConfig(opts, "Batch", false)
	sc := s.sc
	return newStream(sc, "batch", cfg, func(out *Stream[[]T]) func() <-chan *chunk[[]T] {
		return func() <-chan *chunk[[]T] {
			src := s.start()
			ch := make(chan *chunk[[]T], cfg.channelCap())
			sc.goStage(out.name, func() error {
				return batchLoop(s, src, out, newEmitter(sc, out, ch), size, maxWait)
			}, func() { close(ch) })
			return ch
		}
	})
}

func batchLoop[T any](s *Stream[T], src <-chan *chunk[T], out *Stream[[]T], e *emitter[[]T], size int, maxWait time.Duration) error {
	sc := s.sc
	var batch []T
	// A new batch starts with room for as many items as the last one
	// held, so memory follows the batches and not the size limit: a
	// Batch cut by time with a huge size allocates for what arrives.
	hint := 1
	// The timer runs only while a batch is open and maxWait is set.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	cut := func() bool {
		b := batch
		batch = nil
		hint = len(b)
		timer.Stop()
		return e.add(b) && e.flush()
	}
	for {
		if len(src) == 0 && s.steal != nil {
			// As Stream.next does: take what the source holds back, and
			// let it know we wait so that it sends what comes next at once.
			s.hungry.Store(true)
			if c := s.steal(); c != nil {
				s.hungry.Store(false)
				if !batchItems(s, c, &batch, &hint, size, maxWait, timer, e) {
					return nil
				}
				continue
			}
		}
		select {
		case c, ok := <-src:
			s.hungry.Store(false)
			if !ok {
				if !s.drained(src) || len(batch) > 0 && !cut() {
					return nil
				}
				out.complete.Store(e.flush())
				return nil
			}
			if !batchItems(s, c, &batch, &hint, size, maxWait, timer, e) {
				return nil
			}
		case <-timer.C:
			if len(batch) > 0 && !cut() {
				return nil
			}
		case <-sc.ctx.Done():
			return nil
		}
	}
}

// batchItems adds the items of c to the open batch, sending out each batch
// that fills. It returns false if the pipeline stopped.
func batchItems[T any](s *Stream[T], c *chunk[T], batch *[]T, hint *int, size int, maxWait time.Duration, timer *time.Timer, e *emitter[[]T]) bool {
	for _, v := range c.items {
		if *batch == nil {
			*batch = make([]T, 0, min(*hint, size))
			if maxWait > 0 {
				timer.Reset(maxWait)
			}
		}
		*batch = append(*batch, v)
		if len(*batch) == size {
			b := *batch
			*batch = nil
			*hint = size
			timer.Stop()
			if !e.add(b) {
				return false
			}
		}
	}
	s.pool.put(c)
	return e.flush()
}
