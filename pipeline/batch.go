package pipeline

import (
	"fmt"
	"time"
)

// Batch groups the items of s, in order, into new slices of 1 to size items,
// sent when full, at the end of the input, or at most maxWait (unless zero)
// after the first item was produced upstream. It runs on one goroutine and
// panics if size < 1 or maxWait < 0.
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
	s.stamp = maxWait > 0 // the producer notes when each chunk began
	return newStream(sc, "batch", cfg, func(out *Stream[[]T]) func() <-chan *chunk[[]T] {
		return func() <-chan *chunk[[]T] {
			src := s.start()
			ch := make(chan *chunk[[]T], cfg.channelCap())
			b := &batcher[T]{in: s, src: src, out: out, e: newEmitter(sc, out, ch), size: size, maxWait: maxWait, hint: 1}
			sc.goStage(out.name, b.loop, func() { close(ch) })
			return ch
		}
	})
}

// batcher is the state of a running Batch.
type batcher[T any] struct {
	in      *Stream[T]
	src     <-chan *chunk[T]
	out     *Stream[[]T]
	e       *emitter[[]T]
	size    int
	maxWait time.Duration

	batch []T
	// hint is the length of the last batch: a new batch starts with room
	// for that many, so memory follows the batches and not the size limit.
	hint  int
	timer *time.Timer // runs while a batch is open and maxWait is set
}

func (b *batcher[T]) loop() error {
	sc := b.in.sc
	b.timer = time.NewTimer(time.Hour)
	b.timer.Stop()
	defer b.timer.Stop()
	for {
		if len(b.src) == 0 {
			// As Stream.next does: take what the producer holds back,
			// and let it know we wait so that it sends what comes next
			// at once.
			b.in.hungry.Store(true)
			if b.in.steal != nil {
				if c := b.in.steal(); c != nil {
					b.in.hungry.Store(false)
					if !b.add(c) {
						return nil
					}
					continue
				}
			}
		}
		select {
		case c, ok := <-b.src:
			b.in.hungry.Store(false)
			if !ok {
				if !b.in.drained(b.src) || len(b.batch) > 0 && !b.cut() {
					return nil
				}
				b.out.complete.Store(b.e.flush())
				return nil
			}
			if !b.add(c) {
				return nil
			}
		case <-b.timer.C:
			if len(b.batch) > 0 && !b.cut() {
				return nil
			}
		case <-sc.ctx.Done():
			return nil
		}
	}
}

// cut hands on the open batch. It returns false if the pipeline stopped.
func (b *batcher[T]) cut() bool {
	out := b.batch
	b.batch = nil
	b.hint = len(out)
	b.timer.Stop()
	return b.e.add(out) && b.e.flush()
}

// add adds the items of c to the open batch, handing on each batch that
// fills. It returns false if the pipeline stopped.
func (b *batcher[T]) add(c *chunk[T]) bool {
	for _, v := range c.items {
		if b.batch == nil {
			b.batch = make([]T, 0, min(b.hint, b.size))
			if b.maxWait > 0 {
				// The wait runs from the chunk's first item: the batch's
				// own first item came no earlier, so it leaves no later
				// than maxWait after it.
				wait := b.maxWait
				if !c.born.IsZero() {
					wait -= time.Since(c.born)
				}
				b.timer.Reset(max(wait, 0))
			}
		}
		b.batch = append(b.batch, v)
		if len(b.batch) == b.size {
			out := b.batch
			b.batch = nil
			b.hint = b.size
			b.timer.Stop()
			if !b.e.add(out) {
				return false
			}
		}
	}
	b.in.pool.put(c)
	return b.e.flush()
}
