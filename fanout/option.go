package fanout

import (
	"fmt"
	"hash/maphash"
	"reflect"
)

// Option configures [Broadcast] or [Distribute]; the last one of a kind
// wins. An option that does not apply (OnFull to Distribute, ByKey to
// Broadcast) makes that function panic.
type Option interface {
	apply(*config)
}

// FullPolicy says what [Broadcast] does with a value for an output whose buffer
// is full. Set it with [OnFull].
type FullPolicy int

const (
	Block      FullPolicy = iota // wait for the consumer; the default
	DropNewest                   // drop the value that does not fit
	DropOldest                   // drop the oldest buffered value; needs a Buffer of 1 or more
)

// String returns "block", "drop newest" or "drop oldest".
func (p FullPolicy) String() string {
	switch p {
	case Block:
		return "block"
	case DropNewest:
		return "drop newest"
	case DropOldest:
		return "drop oldest"
	}
	return fmt.Sprintf("FullPolicy(%d)", int(p))
}

// DefaultBuffer is the number of values an output of [Broadcast] or
// [Distribute] holds unless [Buffer] says otherwise.
const DefaultBuffer = 64

// A few values of slack in DefaultBuffer let consumers that run at the same
// average speed take turns being slow without stalling one another, and let
// the sending goroutine hand values over without waiting for each consumer
// to be scheduled.

// outputConfig is what may differ between the outputs of a Broadcast.
type outputConfig struct {
	buffer    int
	bufferSet bool
	policy    FullPolicy
	policySet bool
}

// merge returns c with the fields set in o replaced.
func (c outputConfig) merge(o outputConfig) outputConfig {
	if o.bufferSet {
		c.buffer, c.bufferSet = o.buffer, true
	}
	if o.policySet {
		c.policy, c.policySet = o.policy, true
	}
	return c
}

type strategy int

const (
	firstReady strategy = iota
	roundRobin
	byKey
)

type config struct {
	out       outputConfig
	perOutput map[int]outputConfig // from ForOutput, by output index
	onDrop    any                  // func(int, T) for the element type T
	strategy  strategy
	key       any // func(T) uint64 for the element type T, built by ByKey
	keyFunc   any // the function given to ByKey, for messages

	// Options given that the function being configured may not accept,
	// by name, for the panic that says so.
	broadcastOnly  string
	distributeOnly string
}

// option is every Option: name is what misuse messages call it.
type option struct {
	name string
	kind optionKind
	f    func(*config)
}

type optionKind int

const (
	forBoth      optionKind = iota
	forBroadcast            // Broadcast only
	forOutput               // Broadcast only, and may be given per output
	forDistribute
)

func (o option) apply(c *config) {
	switch o.kind {
	case forBroadcast, forOutput:
		if c.broadcastOnly == "" {
			c.broadcastOnly = o.name
		}
	case forDistribute:
		if c.distributeOnly == "" {
			c.distributeOnly = o.name
		}
	}
	o.f(c)
}

// newConfig applies opts for fn ("Broadcast" or "Distribute") and panics on
// an option fn does not take.
func newConfig(fn string, opts []Option) config {
	cfg := config{out: outputConfig{buffer: DefaultBuffer}}
	for _, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("fanout: %s: nil Option", fn))
		}
		o.apply(&cfg)
	}
	switch {
	case fn == "Broadcast" && cfg.distributeOnly != "":
		panic(fmt.Sprintf("fanout: Broadcast: option %s applies to Distribute only", cfg.distributeOnly))
	case fn == "Distribute" && cfg.broadcastOnly != "":
		panic(fmt.Sprintf("fanout: Distribute: option %s applies to Broadcast only", cfg.broadcastOnly))
	}
	return cfg
}

// Buffer gives each output room for n values (default [DefaultBuffer]): with
// [Block] the sender runs up to n values ahead of a consumer; with a drop
// policy it is what a slow consumer keeps. Buffer panics if n < 0.
func Buffer(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("fanout: Buffer(%d): negative buffer", n))
	}
	return option{"Buffer", forBoth, func(c *config) { c.out.buffer, c.out.bufferSet = n, true }}
}

// OnFull sets what [Broadcast] does when an output's buffer is full; drops
// are counted by [Broadcaster.Dropped] and reported to [OnDrop]. It panics
// on an unknown FullPolicy.
func OnFull(p FullPolicy) Option {
	if p < Block || p > DropOldest {
		panic(fmt.Sprintf("fanout: OnFull(%v): unknown policy", p))
	}
	return option{"OnFull", forOutput, func(c *config) { c.out.policy, c.out.policySet = p, true }}
}

// ForOutput applies opts to output i of a [Broadcast] only, so that, say, a
// durable writer blocks while a live view drops. Only [Buffer] and [OnFull]
// may be given; ForOutput panics on any other option, and Broadcast panics
// if it has no output i.
func ForOutput(i int, opts ...Option) Option {
	if i < 0 {
		panic(fmt.Sprintf("fanout: ForOutput(%d): negative output index", i))
	}
	var sub config
	for _, o := range opts {
		op, ok := o.(option)
		if !ok || (op.name != "Buffer" && op.name != "OnFull") {
			panic(fmt.Sprintf("fanout: ForOutput(%d): only Buffer and OnFull can be set per output, not %v", i, describe(o)))
		}
		op.f(&sub)
	}
	return option{"ForOutput", forBroadcast, func(c *config) {
		if c.perOutput == nil {
			c.perOutput = make(map[int]outputConfig)
		}
		c.perOutput[i] = c.perOutput[i].merge(sub.out)
	}}
}

func describe(o Option) string {
	if op, ok := o.(option); ok {
		return op.name
	}
	return fmt.Sprintf("%T", o)
}

// OnDrop calls hook with the output index and the value for every value
// [Broadcast] drops (the newest for [DropNewest], the evicted one for
// [DropOldest]). hook runs on the broadcasting goroutine while every output
// waits, so it must be quick; it may call [Broadcaster.Unsubscribe]. A panic
// in hook stops the broadcast and comes back from [Broadcaster.Wait]. OnDrop
// panics if hook is nil; Broadcast panics if T is not its element type.
func OnDrop[T any](hook func(output int, v T)) Option {
	if hook == nil {
		panic("fanout: OnDrop(nil)")
	}
	return option{"OnDrop", forBroadcast, func(c *config) { c.onDrop = hook }}
}

// RoundRobin makes [Distribute] send value k to output k mod n, whatever the
// consumers' speed (see [Distributor] on slow consumers).
func RoundRobin() Option {
	return option{"RoundRobin", forDistribute, func(c *config) { c.strategy = roundRobin }}
}

// ByKey makes [Distribute] send all values with the same key to the same
// output, so a key's values keep their order while keys run in parallel. key
// runs once per value on the distributing goroutine; a panic in it stops the
// distribution and comes back from [Distributor.Wait]. ByKey panics if key
// is nil; Distribute panics if T is not its element type.
func ByKey[T any, K comparable](key func(T) K) Option {
	if key == nil {
		panic("fanout: ByKey(nil)")
	}
	seed := maphash.MakeSeed()
	hash := func(v T) uint64 { return maphash.Comparable(seed, key(v)) }
	return option{"ByKey", forDistribute, func(c *config) {
		c.strategy = byKey
		c.key, c.keyFunc = hash, key
	}}
}

// typed returns f, made by option opt from the user's function src, as a
// func of type F, or panics naming the option when src was written for
// another element type than T.
func typed[F, T any](f, src any, fn, opt string) F {
	g, ok := f.(F)
	if f != nil && !ok {
		panic(fmt.Sprintf("fanout: %s[%v]: %s was given a %T, a function for another element type", fn, reflect.TypeFor[T](), opt, src))
	}
	return g
}
