package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait on the gateway: generous, for a loaded machine.
const wait = 10 * time.Second

// testGateway is a gateway started by run, with its simulators and a client.
type testGateway struct {
	t      *testing.T
	url    string
	sims   map[string]*downstream
	client *http.Client
}

// start runs a gateway on 127.0.0.1:0 with simulated downstreams that answer
// at once, changed by edit if it is not nil. The gateway is shut down, and
// run's error checked, when the test ends; stop does it earlier.
//
// The request budget is 500ms rather than 200ms, so that a loaded machine
// cannot turn a healthy call into a timeout; the tests of timeouts use the
// 150ms of recommendations, or set a budget of their own.
func start(t *testing.T, edit func(*config)) (gw *testGateway, stop func()) {
	t.Helper()
	cfg := config{
		addr:        "127.0.0.1:0",
		budget:      500 * time.Millisecond,
		recsTimeout: 150 * time.Millisecond,
		openFor:     time.Minute, // no probe during a test
		out:         t.Output(),
		sims:        map[string]*downstream{},
	}
	for _, name := range names {
		cfg.sims[name] = newDownstream(name, 0)
	}
	ready := make(chan string, 1)
	cfg.ready = func(addr string) { ready <- addr }
	if edit != nil {
		edit(&cfg)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run = %v, want nil after a clean shutdown", err)
				}
			case <-time.After(wait):
				t.Errorf("run did not return within %v of the shutdown", wait)
			}
		})
	}
	t.Cleanup(stop)

	select {
	case addr := <-ready:
		transport := &http.Transport{}
		t.Cleanup(transport.CloseIdleConnections)
		return &testGateway{t: t, url: "http://" + addr, sims: cfg.sims, client: &http.Client{Transport: transport}}, stop
	case err := <-done:
		t.Fatalf("run = %v before the gateway was ready", err)
	case <-time.After(wait):
		t.Fatalf("gateway not ready within %v", wait)
	}
	return nil, nil
}

// response is what a test sees of an answer.
type response struct {
	code    int
	header  http.Header
	answer  answer
	failure failure
	took    time.Duration
}

// get requests path and decodes the JSON answer.
func (g *testGateway) get(path string) response {
	g.t.Helper()
	begin := time.Now()
	resp, err := g.client.Get(g.url + path)
	if err != nil {
		g.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	r := response{code: resp.StatusCode, header: resp.Header, took: time.Since(begin)}
	if err != nil {
		g.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		g.t.Fatalf("GET %s: Content-Type %q, want application/json; body %s", path, ct, body)
	}
	into := any(&r.failure)
	if r.code == http.StatusOK {
		into = &r.answer
	}
	if err := json.Unmarshal(body, into); err != nil {
		g.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return r
}

// status returns the status code of a GET of path.
func (g *testGateway) status(path string) int {
	g.t.Helper()
	resp, err := g.client.Get(g.url + path)
	if err != nil {
		g.t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// When every downstream answers, the answer has all three parts.
func TestFullAnswer(t *testing.T) {
	gw, _ := start(t, nil)
	r := gw.get("/product/42")
	if r.code != http.StatusOK || r.answer.Degraded || r.answer.LeftOut != nil {
		t.Fatalf("GET /product/42 = %d %+v, want 200, not degraded", r.code, r.answer)
	}
	want := answer{
		ID:              "42",
		Details:         json.RawMessage(`{"name":"Product 42","stock":8}`),
		Price:           json.RawMessage(`{"amount":1.41,"currency":"EUR"}`),
		Recommendations: json.RawMessage(`[43,44,45]`),
	}
	got, _ := json.Marshal(r.answer)
	if w, _ := json.Marshal(want); string(got) != string(w) {
		t.Fatalf("answer %s, want %s", got, w)
	}
	t.Logf("full answer in %v: %s", r.took, got)

	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gateway_request_duration_seconds_count", []string{"outcome=full"}, 1},
		{"weft_fanout_call_duration_seconds_count", []string{"weft_fanout_call=price", "outcome=ok"}, 1},
		{"weft_fanout_call_duration_seconds_count", []string{"weft_fanout_call=recommendations", "outcome=ok"}, 1},
		{"weft_retry_attempts_count", []string{"weft_retry_name=details", "outcome=success"}, 1},
		{"weft_breaker_state", []string{"weft_breaker_name=price", "weft_breaker_state=closed"}, 1},
	} {
		if got := gw.metric(tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

// When recommendations are slow or fail, the answer goes out without them,
// marked degraded. Failing recommendations have all the time they need for
// their three attempts, so that a loaded machine cannot turn the failure
// into a timeout.
func TestDegradedAnswer(t *testing.T) {
	tests := []struct {
		name        string
		b           behaviour
		recsTimeout time.Duration
		status      string
	}{
		{"slow", behaviour{Delay: time.Minute}, 150 * time.Millisecond, "timed_out"},
		{"failing", behaviour{Fail: true}, wait, "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, _ := start(t, func(cfg *config) {
				cfg.budget = max(cfg.budget, tt.recsTimeout)
				cfg.recsTimeout = tt.recsTimeout
			})
			gw.sims[recs].set(tt.b)
			r := gw.get("/product/7")
			if r.code != http.StatusOK || !r.answer.Degraded || len(r.answer.LeftOut) != 1 || r.answer.LeftOut[0] != recs {
				t.Fatalf("GET /product/7 = %d %+v, want 200, degraded, left out [recommendations]", r.code, r.answer)
			}
			if r.answer.Recommendations != nil || r.answer.Details == nil || r.answer.Price == nil {
				t.Fatalf("answer %+v, want details and price, no recommendations", r.answer)
			}
			t.Logf("degraded answer (recommendations %s) in %v", tt.name, r.took)
			if got := gw.metric("gateway_request_duration_seconds_count", "outcome=degraded"); got != 1 {
				t.Errorf("degraded requests = %v, want 1", got)
			}
			if got := gw.metric("weft_fanout_call_duration_seconds_count", "weft_fanout_call=recommendations", "outcome="+tt.status); got != 1 {
				t.Errorf("recommendations calls %s = %v, want 1", tt.status, got)
			}
		})
	}
}

// When a required call fails, the answer is an error naming it, with a
// status that says how it failed.
func TestFailedAnswer(t *testing.T) {
	tests := []struct {
		name string
		sim  string
		b    behaviour
		code int
	}{
		{"price failing", price, behaviour{Fail: true}, http.StatusBadGateway},
		{"price slow", price, behaviour{Delay: time.Minute}, http.StatusGatewayTimeout},
		{"details failing", details, behaviour{Fail: true}, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, _ := start(t, nil)
			gw.sims[tt.sim].set(tt.b)
			r := gw.get("/product/7")
			if r.code != tt.code || r.failure.Call != tt.sim || !strings.Contains(r.failure.Error, `"`+tt.sim+`"`) {
				t.Fatalf("GET /product/7 = %d %+v, want %d naming %q", r.code, r.failure, tt.code, tt.sim)
			}
			if got := gw.metric("gateway_request_duration_seconds_count", "outcome=failed"); got != 1 {
				t.Errorf("failed requests = %v, want 1", got)
			}
		})
	}
}

// A failing downstream is retried, within a budget shared by all requests.
// With price answering 503: the first request makes three attempts; the
// second, two, before the budget (10 tokens, retries while more than 5 are
// left, one taken per failure) refuses a retry; the third, one. Six
// failures do not open the breaker, whose window needs 20 calls
// (TestBreakerOpens).
func TestRetriesWithinBudget(t *testing.T) {
	gw, _ := start(t, nil)
	gw.sims[price].set(behaviour{Fail: true})
	tests := []struct {
		code  int
		error string
		hits  int64
	}{
		{http.StatusBadGateway, "attempts exhausted after 3 attempts", 3},
		{http.StatusBadGateway, "budget exhausted after 2 attempts", 5},
		{http.StatusBadGateway, "budget exhausted after 1 attempt", 6},
	}
	for i, tt := range tests {
		r := gw.get("/product/7")
		if r.code != tt.code || r.failure.Call != price || !strings.Contains(r.failure.Error, tt.error) {
			t.Fatalf("request %d: %d %+v, want %d naming price, %q", i+1, r.code, r.failure, tt.code, tt.error)
		}
		if got := gw.sims[price].hits.Load(); got != tt.hits {
			t.Fatalf("after request %d price was called %d times, want %d", i+1, got, tt.hits)
		}
	}
	// One wait per retry; the calls' attempts by how they ended.
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"weft_retry_delay_seconds_count", []string{"weft_retry_name=price"}, 3},
		{"weft_retry_attempts_count", []string{"weft_retry_name=price", "outcome=exhausted"}, 1},
		{"weft_retry_attempts_sum", []string{"weft_retry_name=price", "outcome=exhausted"}, 3},
		{"weft_retry_attempts_count", []string{"weft_retry_name=price", "outcome=budget"}, 2},
		{"weft_retry_attempts_sum", []string{"weft_retry_name=price", "outcome=budget"}, 3},
	} {
		if got := gw.metric(tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

// Once the breaker's window holds 20 calls to price (its MinCalls), half of
// them or more failed, it opens: later requests are refused without calling
// price, at once instead of after the budget, with 503 and a Retry-After.
// Fewer failures do not trip it, however many in a row.
func TestBreakerOpens(t *testing.T) {
	// Long enough that details, which answers at once, never times out
	// under a burst on a loaded machine.
	const budget = time.Second
	gw, _ := start(t, func(cfg *config) { cfg.budget = budget })
	gw.sims[price].set(behaviour{Delay: time.Minute})
	burst := func(n int) {
		t.Helper()
		codes := make(chan string, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				resp, err := gw.client.Get(gw.url + "/product/7")
				if err != nil {
					codes <- err.Error()
					return
				}
				defer resp.Body.Close()
				var f failure
				json.NewDecoder(resp.Body).Decode(&f)
				codes <- strconv.Itoa(resp.StatusCode) + " " + f.Call
			})
		}
		wg.Wait()
		close(codes)
		for got := range codes {
			if got != "504 "+price {
				t.Fatalf("request in a burst of %d: %q, want 504 naming price", n, got)
			}
		}
	}
	burst(19) // under MinCalls: the circuit stays closed
	if got := gw.metric("weft_breaker_state", "weft_breaker_name=price", "weft_breaker_state=closed"); got != 1 {
		t.Fatalf("price breaker closed = %v after 19 failures, want 1", got)
	}
	burst(1) // the twentieth
	if got := gw.metric("weft_breaker_state", "weft_breaker_name=price", "weft_breaker_state=open"); got != 1 {
		t.Fatalf("price breaker open = %v, want 1", got)
	}
	hits := gw.sims[price].hits.Load()
	for i := range 5 {
		r := gw.get("/product/7")
		if r.code != http.StatusServiceUnavailable || r.failure.Call != price || !strings.Contains(r.failure.Error, "circuit open") {
			t.Fatalf("request %d after the trip: %d %+v, want 503 naming price, circuit open", i+1, r.code, r.failure)
		}
		// An answer that waited for price would take the whole budget.
		if r.took >= budget {
			t.Fatalf("request %d after the trip took %v, want less than the %v budget", i+1, r.took, budget)
		}
		// The breaker stays open for a minute: the client is told to come
		// back in at most that.
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Fatalf("request %d after the trip: Retry-After %q, want 1 to 60 seconds", i+1, r.header.Get("Retry-After"))
		}
		t.Logf("open circuit answered in %v", r.took)
	}
	if got := gw.sims[price].hits.Load(); got != hits {
		t.Fatalf("price called %d times with its breaker open", got-hits)
	}
	if got := gw.metric("gateway_request_duration_seconds_count", "outcome=failed"); got != 25 {
		t.Fatalf("failed requests = %v, want 25", got)
	}
	if got := gw.metric("weft_breaker_rejections_total", "weft_breaker_name=price", "weft_breaker_state=open"); got != 5 {
		t.Fatalf("price breaker rejections = %v, want 5", got)
	}
}

// Requests in flight when shutdown begins complete with their normal answer,
// and run returns nil.
func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	const n = 8
	gw, stop := start(t, func(cfg *config) {
		cfg.budget = wait // the requests wait on the test, not on a timer
		cfg.recsTimeout = wait
	})
	hold, arrived := make(chan struct{}), make(chan struct{})
	gw.sims[details].set(behaviour{Hold: hold, Arrived: arrived})

	type result struct {
		r   response
		err error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := gw.client.Get(gw.url + "/product/" + strconv.Itoa(i+1))
			if err != nil {
				results <- result{err: err}
				return
			}
			defer resp.Body.Close()
			var a answer
			err = json.NewDecoder(resp.Body).Decode(&a)
			results <- result{r: response{code: resp.StatusCode, answer: a}, err: err}
		})
	}
	defer wg.Wait()
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	defer release() // also when the test fails, so that no request waits out its budget
	// Wait until every request has reached details and is held there.
	for range n {
		select {
		case <-arrived:
		case <-time.After(wait):
			t.Fatalf("requests not in flight within %v", wait)
		}
	}

	stopped := make(chan struct{})
	go func() { defer close(stopped); stop() }()
	// Shutdown has begun once the gateway refuses new connections.
	addr := strings.TrimPrefix(gw.url, "http://")
	deadline := time.Now().Add(wait)
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("gateway still accepting connections %v after shutdown began", wait)
		}
		time.Sleep(5 * time.Millisecond) // polling the network, not synchronising
	}
	select {
	case <-stopped:
		t.Fatal("shutdown finished with requests in flight")
	default:
	}

	release()
	for range n {
		res := <-results
		if res.err != nil || res.r.code != http.StatusOK || res.r.answer.Degraded {
			t.Errorf("request in flight at shutdown: %d %+v, %v; want 200, full", res.r.code, res.r.answer, res.err)
		}
	}
	<-stopped
}

// During the drain delay the gateway says it is not ready, so that load
// balancers stop sending it requests, and still answers the ones that come.
func TestNotReadyWhileDraining(t *testing.T) {
	gw, stop := start(t, func(cfg *config) { cfg.drainDelay = 2 * time.Second })
	if got := gw.status("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz = %d before shutdown, want 200", got)
	}
	stopped := make(chan struct{})
	go func() { defer close(stopped); stop() }()
	deadline := time.Now().Add(time.Second)
	for gw.status("/readyz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still 200 a second after shutdown began")
		}
		time.Sleep(5 * time.Millisecond) // polling the network, not synchronising
	}
	if got := gw.status("/livez"); got != http.StatusOK {
		t.Errorf("/livez = %d while draining, want 200", got)
	}
	if r := gw.get("/product/3"); r.code != http.StatusOK || r.answer.Degraded {
		t.Errorf("GET /product/3 while draining = %d %+v, want 200, full", r.code, r.answer)
	}
	<-stopped
}

// Ids that are not products are refused before any downstream is called, or
// answered 404 when the catalogue does not know them.
func TestBadRequests(t *testing.T) {
	gw, _ := start(t, nil)
	tests := []struct {
		path string
		code int
	}{
		{"/product/abc", http.StatusBadRequest},
		{"/product/0", http.StatusBadRequest},
		{"/product/-3", http.StatusBadRequest},
		{"/product/99999999999999999999999", http.StatusBadRequest},
		{"/product/1001", http.StatusNotFound},
	}
	for _, tt := range tests {
		if r := gw.get(tt.path); r.code != tt.code || r.failure.Error == "" {
			t.Errorf("GET %s = %d %+v, want %d with an error", tt.path, r.code, r.failure, tt.code)
		}
		if tt.code == http.StatusBadRequest && gw.sims[details].hits.Load() != 0 {
			t.Errorf("GET %s called details", tt.path)
		}
	}
	// A product the catalogue does not know is the catalogue's answer,
	// not its failure: the breaker does not count it, and neither do the
	// calls to price and recommendations that Gather cancelled.
	for range 5 {
		if r := gw.get("/product/1001"); r.code != http.StatusNotFound || r.failure.Call != details {
			t.Errorf("GET /product/1001 = %d %+v, want 404 naming details", r.code, r.failure)
		}
	}
	for _, name := range names {
		if got := gw.metric("weft_breaker_state", "weft_breaker_name="+name, "weft_breaker_state=closed"); got != 1 {
			t.Errorf("%s breaker closed = %v after 404s, want 1", name, got)
		}
	}
}

func TestFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-price-url", "http://prices.internal/v1", "-slow", "recommendations", "-fail", "details"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.urls[price] != "http://prices.internal/v1" || cfg.sims[price] != nil || cfg.budget != 200*time.Millisecond || cfg.drainDelay != 5*time.Second {
		t.Fatalf("config %+v", cfg)
	}
	if cfg.traces != nil {
		t.Errorf("traces go to %v without -trace, want nowhere", cfg.traces)
	}
	if cfg, err := parseFlags([]string{"-trace"}, io.Discard); err != nil || cfg.traces != os.Stdout {
		t.Errorf("-trace: traces go to %v, %v; want stdout", cfg.traces, err)
	}
	if b := cfg.sims[recs].get(); b.Delay != 300*time.Millisecond {
		t.Errorf("-slow recommendations: delay %v", b.Delay)
	}
	if b := cfg.sims[details].get(); !b.Fail {
		t.Errorf("-fail details: not failing")
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-budget", "-1s"}, "-budget -1s: must be positive"},
		{[]string{"-budget", "soon"}, `invalid value "soon" for flag -budget`},
		{[]string{"-recs-timeout", "300ms"}, "-recs-timeout 300ms: must be positive and at most -budget (200ms)"},
		{[]string{"-open-for", "0s"}, "-open-for 0s: must be positive"},
		{[]string{"-drain-delay", "-1s"}, "-drain-delay -1s: must not be negative"},
		{[]string{"-price-url", "prices.internal"}, `invalid value "prices.internal" for flag -price-url: want an http:// or https:// URL with a host`},
		{[]string{"-recs-url", "ftp://recs.internal"}, `invalid value "ftp://recs.internal" for flag -recs-url`},
		{[]string{"-price-url", "http://prices.internal", "-fail", "price"}, `-fail "price": not one of the simulated services`},
		{[]string{"-slow", "cart"}, `-slow "cart": not one of the simulated services`},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		if _, err := parseFlags(tt.args, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseFlags(%q) = %v, want an error with %q", tt.args, err, tt.want)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseFlags(-h) = %v, want flag.ErrHelp", err)
	}
}

// The built gateway, with its default flags, under keep-alive load from 16
// clients, gets SIGTERM: it logs that it drains, /readyz turns 503, every
// request sent until the balancer would have caught up (half the drain
// delay) gets a response, keep-alive clients are told to reconnect, and the
// process exits 0.
func TestSIGTERMUnderKeepAliveLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and waits its drain delay")
	}
	bin := filepath.Join(t.TempDir(), "gateway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody waits for this many lines: keep the gateway's stderr flowing
			}
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	defer func() {
		cmd.Process.Kill()
		for range lines {
		}
	}()
	expect := func(re *regexp.Regexp) []string {
		t.Helper()
		timeout := time.After(wait)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("the gateway exited before logging %v", re)
				}
				if m := re.FindStringSubmatch(line); m != nil {
					return m
				}
			case <-timeout:
				t.Fatalf("the gateway did not log %v within %v", re, wait)
			}
		}
	}
	url := "http://" + expect(regexp.MustCompile(`msg=serving addr=http://(\S+)`))[1]

	var sent, answered, lost, told atomic.Int64
	codes := sync.Map{} // status code -> *atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Go(func() {
			tr := &http.Transport{MaxIdleConnsPerHost: 2}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: wait}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				resp, err := client.Get(fmt.Sprintf("%s/product/%d", url, 1+(c*1000+i)%1000))
				if err != nil {
					lost.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					lost.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				answered.Add(1)
				if resp.Close {
					told.Add(1)
				}
				n, _ := codes.LoadOrStore(resp.StatusCode, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		})
	}
	for answered.Load() < 500 && lost.Load() == 0 {
		time.Sleep(time.Millisecond) // polling a counter; no ordering depends on it
	}
	before := answered.Load()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expect(regexp.MustCompile(`msg="received SIGTERM, draining \(ready=false\)"`))
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := probe.Get(url + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining: %v %v, want 503", resp, err)
	} else {
		resp.Body.Close()
	}
	// A balancer takes the gateway out of rotation well within its drain
	// delay (5s); the clients stop sending then.
	time.Sleep(2500 * time.Millisecond) // the balancer's lag: the scenario, not a synchronisation
	close(stop)
	wg.Wait()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("gateway exited with %v, want status 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gateway did not exit within 30s of SIGTERM")
	}

	byCode := map[int]int64{}
	codes.Range(func(k, v any) bool { byCode[k.(int)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("sent %d, answered %d (%d before SIGTERM, %d after; %d told to reconnect), lost %d; by status %v",
		sent.Load(), answered.Load(), before, answered.Load()-before, told.Load(), lost.Load(), byCode)
	if lost.Load() != 0 {
		t.Errorf("%d of %d requests got no response; first: %v", lost.Load(), sent.Load(), firstErr.Load())
	}
	if told.Load() == 0 {
		t.Error("no answer during the drain said Connection: close")
	}
	if answered.Load() == before {
		t.Error("no request answered after SIGTERM")
	}
}
