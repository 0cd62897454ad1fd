package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft/shutdown"
)

// catalogueSize is how many products the simulated details service knows:
// it answers 404 for any other id, so that the gateway's not-found path has
// something to find.
const catalogueSize = 1000

// downstream simulates one of the services the gateway calls. It answers
// GET /{id} with a small JSON document after a delay, and its behaviour can
// be changed while it runs: the -slow and -fail flags set it at start, and
// tests slow it down, break it and hold its answers back.
type downstream struct {
	name string
	hits atomic.Int64 // requests received

	mu sync.Mutex
	b  behaviour
}

// behaviour is how a downstream answers.
type behaviour struct {
	Delay time.Duration // wait this long before answering
	Fail  bool          // answer 503 Service Unavailable
	// Hold, when not nil, holds every answer back (after Delay) until it is
	// closed; Arrived, when not nil, receives one value per request as it
	// arrives. Tests use them to have requests in flight at a known moment.
	Hold    <-chan struct{}
	Arrived chan<- struct{}
}

func newDownstream(name string, delay time.Duration) *downstream {
	return &downstream{name: name, b: behaviour{Delay: delay}}
}

// listen opens a loopback listener for the simulator, and returns it with
// the component that serves on it.
func (d *downstream) listen() (shutdown.Component, net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 5 * time.Second}
	return shutdown.HTTPServer(srv, shutdown.Listener(ln)), ln, nil
}

// set changes the behaviour for the requests that arrive from now on.
func (d *downstream) set(b behaviour) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.b = b
}

func (d *downstream) get() behaviour {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.b
}

func (d *downstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.hits.Add(1)
	b := d.get()
	ctx := r.Context()
	if b.Arrived != nil {
		select {
		case b.Arrived <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
	// A real service stops working on a request whose caller has gone; so
	// does this one, so that a gateway timeout leaves nothing running here.
	t := time.NewTimer(b.Delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return
	}
	if b.Hold != nil {
		select {
		case <-b.Hold:
		case <-ctx.Done():
			return
		}
	}
	if b.Fail {
		http.Error(w, d.name+" is unavailable", http.StatusServiceUnavailable)
		return
	}

	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
	if err != nil || id < 1 || (d.name == details && id > catalogueSize) {
		http.NotFound(w, r)
		return
	}
	var doc any
	switch d.name {
	case details:
		doc = map[string]any{"name": "Product " + strconv.Itoa(id), "stock": id % 17}
	case price:
		doc = map[string]any{"amount": float64(id%5000+99) / 100, "currency": "EUR"}
	default: // recommendations: the next three products
		doc = []int{id%catalogueSize + 1, (id+1)%catalogueSize + 1, (id+2)%catalogueSize + 1}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

// simulators returns a simulator for each downstream without a URL; those
// named in the comma-separated lists slow and fail answer after 300ms and
// with 503.
func simulators(urls map[string]string, slow, fail string) (map[string]*downstream, error) {
	sims := map[string]*downstream{}
	delays := map[string]time.Duration{details: 10 * time.Millisecond, price: 5 * time.Millisecond, recs: 40 * time.Millisecond}
	for _, name := range names {
		if urls[name] == "" {
			sims[name] = newDownstream(name, delays[name])
		}
	}
	for _, f := range []struct {
		flag, list string
		set        func(*behaviour)
	}{
		{"-slow", slow, func(b *behaviour) { b.Delay = 300 * time.Millisecond }},
		{"-fail", fail, func(b *behaviour) { b.Fail = true }},
	} {
		for name := range strings.SplitSeq(f.list, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			sim := sims[name]
			if sim == nil {
				return nil, fmt.Errorf("%s %q: not one of the simulated services (%s)", f.flag, name, strings.Join(names, ", "))
			}
			b := sim.get()
			f.set(&b)
			sim.set(b)
		}
	}
	return sims, nil
}
