package breaker

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// What a window records for one call. Ignored outcomes are not recorded.
const (
	kindNone    uint32 = iota // an empty slot of a count window
	kindSuccess               // a success that was not slow
	kindSlow                  // a slow success
	kindFailure               // a failure
)

// counts is what a window holds: calls (successes, slow included, and
// failures), failures, and slow successes.
type counts struct {
	calls, failures, slow int
}

// trips reports whether the share of part in c reaches rate, with at least
// minCalls calls. It divides rather than multiplies: part/calls rounds to
// the same float64 as the rate written with the same value (7/25 and 0.28),
// while rate*calls can round above part (0.28*25 is 7.000000000000001).
func (c counts) trips(part int, rate float64, minCalls int) bool {
	return c.calls >= minCalls && c.calls > 0 && float64(part)/float64(c.calls) >= rate
}

// countWindow holds the outcomes of the last n calls in a ring of slots.
//
// The three counts live packed in one word, 21 bits each and biased by 2²⁰,
// so one atomic add applies a whole change. Every change is "slot went from
// old to new", applied as the difference of the two; concurrent writers can
// apply a removal before the matching insertion, and the bias keeps such a
// momentarily negative count from borrowing from its neighbour. Since every
// change is the exact difference of what a slot held, the counts always
// describe the slots once writers are done. A success that finds a success
// in its slot changes nothing and writes nothing but the position.
type countWindow struct {
	pos    atomic.Uint32
	counts atomic.Uint64
	n      uint64
	magic  uint64 // for fastmod by n
	full   uint64 // counts of a window of n successes
	slots  []atomic.Uint32
}

const (
	countBits = 21
	countMask = 1<<countBits - 1
	countBias = 1 << (countBits - 1)

	callUnit = 1
	failUnit = 1 << countBits
	slowUnit = 1 << (2 * countBits)
	biasAll  = countBias*callUnit + countBias*failUnit + countBias*slowUnit
)

var kindUnits = [...]uint64{
	kindNone:    0,
	kindSuccess: callUnit,
	kindSlow:    callUnit + slowUnit,
	kindFailure: callUnit + failUnit,
}

func newCountWindow(n int) *countWindow {
	w := &countWindow{n: uint64(n), slots: make([]atomic.Uint32, n)}
	w.magic = ^uint64(0)/w.n + 1 // wraps to 0 for n = 1, which fastmod handles
	w.full = biasAll + uint64(n)*callUnit
	w.counts.Store(biasAll)
	return w
}

// slot returns the slot of the next call. The position wraps at 2³², where
// one slot is skipped or repeated; the counts stay exact for what the slots
// hold.
func (w *countWindow) slot() *atomic.Uint32 {
	i := uint64(w.pos.Add(1) - 1)
	// Lemire's fastmod: i mod n with two multiplications instead of a
	// division, exact for 32-bit i.
	hi, _ := bits.Mul64(w.magic*i, w.n)
	return &w.slots[hi]
}

// success records a success. A window that holds nothing but successes
// stays the same whichever of them a new one replaces, so then there is
// nothing to write, not even the position: the common case of a healthy
// dependency costs one load of a word that is written only when the
// counts change, and scales across cores.
func (w *countWindow) success() {
	if w.counts.Load() != w.full {
		w.add(kindSuccess)
	}
}

// add records kind k in the next slot.
func (w *countWindow) add(k uint32) {
	s := w.slot()
	if s.Load() == k {
		return
	}
	if old := s.Swap(k); old != k {
		w.counts.Add(kindUnits[k] - kindUnits[old])
	}
}

func (w *countWindow) load() counts {
	v := w.counts.Load()
	field := func(shift uint) int {
		return max(int((v>>shift)&countMask)-countBias, 0)
	}
	return counts{calls: field(0), failures: field(countBits), slow: field(2 * countBits)}
}

// timeWindow holds outcomes in buckets of span nanoseconds; the window is the
// current bucket and the n-1 before it. Epoch e is the span starting at
// e*span nanoseconds after the breaker's base time; it lives in bucket e mod n.
//
// A bucket word holds a 4-bit lap tag (e/n mod 16) and three 20-bit counts.
// Writers add with a CAS that checks the tag, so a writer delayed past its
// bucket's reuse drops its outcome instead of counting it in a later epoch.
// When time enters a new epoch, the first writer to notice clears every
// bucket between the last epoch and the new one under mu, then publishes the
// new epoch; no bucket is ever older than the window, so the short tag
// cannot alias.
type timeWindow struct {
	cur     atomic.Uint64 // epoch<<16 | tag<<12 | index of the newest epoch
	span    int64
	n       uint64
	mu      sync.Mutex
	buckets []atomic.Uint64
}

const (
	bucketBits  = 20
	bucketMask  = 1<<bucketBits - 1
	tagShift    = 60
	bucketCalls = 1 << (2 * bucketBits)
	bucketSlow  = 1 << bucketBits
	bucketFail  = 1

	curIndexBits = 12
	curTagShift  = curIndexBits
	curEpoch     = 16
)

var bucketUnits = [...]uint64{
	kindSuccess: bucketCalls,
	kindSlow:    bucketCalls + bucketSlow,
	kindFailure: bucketCalls + bucketFail,
}

func newTimeWindow(span int64, n int, now int64) *timeWindow {
	w := &timeWindow{span: span, n: uint64(n), buckets: make([]atomic.Uint64, n)}
	e := uint64(now / span)
	for s := e - min(e, w.n-1); s <= e; s++ {
		w.buckets[s%w.n].Store(w.tag(s) << tagShift)
	}
	w.cur.Store(w.pack(e))
	return w
}

func (w *timeWindow) tag(e uint64) uint64 { return (e / w.n) & 0xf }

func (w *timeWindow) pack(e uint64) uint64 {
	return e<<curEpoch | w.tag(e)<<curTagShift | e%w.n
}

// add records kind k for a call reported at now. A call reported in another
// epoch than the newest, the rare case, is left to epoch.
func (w *timeWindow) add(now int64, k uint32) {
	cur := w.cur.Load()
	if start := int64(cur>>curEpoch) * w.span; now < start || now-start >= w.span {
		var ok bool
		if cur, ok = w.epoch(now); !ok {
			return
		}
	}
	b := &w.buckets[cur&(1<<curIndexBits-1)]
	// A bucket's top 24 bits are its lap tag and its calls count. Taking
	// away the tag of cur's epoch leaves the count, below bucketMask, only
	// if the tag matches (the bucket still holds that epoch) and the count
	// is not full.
	tag := (cur >> curTagShift) & 0xf << bucketBits
	for {
		old := b.Load()
		if old>>(2*bucketBits)-tag >= bucketMask {
			return // the bucket moved on to a later epoch, or is full
		}
		if b.CompareAndSwap(old, old+bucketUnits[k]) {
			return
		}
	}
}

// epoch returns the packed epoch of a call reported at now, which is not in
// the newest epoch, making it the newest if it is later. It reports false
// for a call reported so late that its epoch has left the window.
func (w *timeWindow) epoch(now int64) (uint64, bool) {
	e := uint64(now / w.span)
	last := w.cur.Load() >> curEpoch
	if e > last {
		w.advance(e)
	} else if last-e >= w.n {
		return 0, false
	}
	return w.pack(e), true
}

// advance makes e the newest epoch, clearing the buckets of the epochs it
// skips over.
func (w *timeWindow) advance(e uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	last := w.cur.Load() >> curEpoch
	if e <= last {
		return
	}
	for s := max(last+1, e-min(e, w.n-1)); s <= e; s++ {
		w.buckets[s%w.n].Store(w.tag(s) << tagShift)
	}
	w.cur.Store(w.pack(e))
}

// load returns the counts of the window that ends at now.
func (w *timeWindow) load(now int64) counts {
	cur := w.cur.Load()
	last := cur >> curEpoch
	e := max(uint64(now/w.span), last)
	var c counts
	if e-last >= w.n {
		return c
	}
	// The buckets hold epochs last, last-1, …, last-n+1; those after e-n
	// are in the window.
	for k := uint64(0); k < w.n-(e-last) && k <= last; k++ {
		s := last - k
		v := w.buckets[s%w.n].Load()
		if v>>tagShift != w.tag(s) {
			continue
		}
		c.calls += int((v >> (2 * bucketBits)) & bucketMask)
		c.slow += int((v >> bucketBits) & bucketMask)
		c.failures += int(v & bucketMask)
	}
	return c
}
