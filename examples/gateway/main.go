// Command gateway is an HTTP service that answers GET /product/{id} by
// calling three downstream services at once and answering with what came
// back in time:
//
//	GET /product/42 ─▶ fanout.Gather, 200ms budget ─┬─ details          required
//	                                                ├─ price            required
//	                                                └─ recommendations  optional, 150ms
//
// Each call goes through a retry policy (quick attempts, within a budget
// shared by all requests) around a circuit breaker around one shared
// http.Client. When recommendations fail or are slow the answer is still 200,
// marked "degraded" and listing what was left out; when a required call fails
// the answer is a JSON error naming it: 502 if it failed, 504 if it timed out,
// 503 while its breaker is open, 404 if the product does not exist.
//
// By default the program starts the downstream services itself, simulated on
// loopback; -details-url, -price-url and -recs-url call real ones (GET
// URL/{id}), and -slow and -fail change how the simulators answer. It also
// serves /readyz, /livez and /metrics.
//
// /metrics has OpenTelemetry metrics in Prometheus' format: those of the
// breakers, retry policies and fan-out, recorded by weft's otel module
// (weft_breaker_state, weft_breaker_rejections_total, weft_retry_attempts,
// weft_retry_delay_seconds, weft_fanout_call_duration_seconds), and the
// gateway's own gateway_request_duration_seconds, by outcome. With -trace the
// gateway writes a trace of every request to stdout, a span a line: the
// request, Gather, each downstream call with its retries as events, and each
// attempt with the breaker's verdict and the downstream's status.
//
// On SIGTERM or SIGINT it logs "received SIGTERM, draining (ready=false)",
// answers 503 on /readyz, and keeps serving for -drain-delay (5s), answering
// every request with "Connection: close" so that keep-alive clients
// reconnect through the load balancer, which by then sends them elsewhere;
// then it stops accepting, finishes the requests in flight and exits 0. A
// second Ctrl-C exits at once; a repeated SIGTERM does not.
//
//	go -C examples run ./gateway
//	curl -s localhost:8080/product/42
//	go -C examples run ./gateway -slow recommendations   # degraded answers
//	go -C examples run ./gateway -fail price             # 502, then 503 once the breaker opens
//	go -C examples run ./gateway -trace | jq -c '{Name, Attributes}'
//
// Try signals on a built binary: under go run, a SIGTERM sent to go's own
// process ends go run and leaves the gateway running, orphaned.
//
//	go -C examples build -o /tmp/gateway ./gateway
//	/tmp/gateway & pid=$!
//	curl -s localhost:8080/readyz; kill -TERM $pid; curl -s localhost:8080/readyz
//	wait $pid; echo "exit status $?"
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/fanout"
	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/retry"
	"github.com/weftgo/weft/shutdown"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// The downstream services, in the order the gateway calls them.
const (
	details = "details"
	price   = "price"
	recs    = "recommendations"
)

var names = []string{details, price, recs}

// config is what the flags set; tests build one directly.
type config struct {
	addr        string                 // where the gateway listens
	urls        map[string]string      // downstream base URLs by name; simulated where empty
	budget      time.Duration          // time for a whole request
	recsTimeout time.Duration          // time for the optional recommendations call
	openFor     time.Duration          // how long an open breaker refuses calls
	drainDelay  time.Duration          // time between turning not-ready and stopping the server
	out         io.Writer              // the log
	sims        map[string]*downstream // simulators for the names without a URL; tests keep them to break them
	traces      io.Writer              // where spans go, a JSON object a line; nowhere when nil
	ready       func(addr string)      // when set, called with the gateway's address once it serves
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err == nil {
		cfg.out = os.Stderr
		ctx, stop := shutdown.OnSignal(context.Background()) // SIGINT, SIGTERM; a second one exits at once
		err = run(ctx, cfg)
		stop()
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into a config, with a simulator for each
// downstream that has no URL.
func parseFlags(args []string, usage io.Writer) (config, error) {
	cfg := config{urls: map[string]string{}}
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, and main prints them once
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	for name, flagName := range map[string]string{details: "details-url", price: "price-url", recs: "recs-url"} {
		fs.Func(flagName, "base `URL` of the "+name+" service, called as URL/{id}; simulated when not given", func(s string) error {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("want an http:// or https:// URL with a host")
			}
			cfg.urls[name] = s
			return nil
		})
	}
	fs.DurationVar(&cfg.budget, "budget", 200*time.Millisecond, "time budget of one request")
	fs.DurationVar(&cfg.recsTimeout, "recs-timeout", 150*time.Millisecond, "time budget of the optional recommendations call")
	fs.DurationVar(&cfg.openFor, "open-for", 5*time.Second, "how long a tripped breaker refuses calls before it probes")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", 5*time.Second, "time between turning not-ready and stopping, on SIGTERM: longer than the load balancers take to notice")
	slow := fs.String("slow", "", "comma-separated simulated services that answer after 300ms")
	fail := fs.String("fail", "", "comma-separated simulated services that answer 503")
	traces := fs.Bool("trace", false, "write the spans of every request to stdout, a JSON object a line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(usage)
			fs.Usage()
		}
		return cfg, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.budget <= 0:
		return cfg, fmt.Errorf("-budget %v: must be positive", cfg.budget)
	case cfg.recsTimeout <= 0 || cfg.recsTimeout > cfg.budget:
		return cfg, fmt.Errorf("-recs-timeout %v: must be positive and at most -budget (%v)", cfg.recsTimeout, cfg.budget)
	case cfg.openFor <= 0:
		return cfg, fmt.Errorf("-open-for %v: must be positive", cfg.openFor)
	case cfg.drainDelay < 0:
		return cfg, fmt.Errorf("-drain-delay %v: must not be negative", cfg.drainDelay)
	}
	if *traces {
		cfg.traces = os.Stdout
	}
	var err error
	cfg.sims, err = simulators(cfg.urls, *slow, *fail)
	return cfg, err
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, cfg config) error {
	log := slog.New(slog.NewTextHandler(cfg.out, nil))
	tel, err := newTelemetry(cfg.traces)
	if err != nil {
		return err
	}
	// The default Timeout, 25s with the drain delay in it, fits Kubernetes'
	// default grace period of 30s; see the shutdown package's doc for a
	// preStop hook.
	g := shutdown.New(
		shutdown.DrainDelay(cfg.drainDelay),
		shutdown.OnStop(func(name string, err error, took time.Duration) {
			log.Info("stopped", "component", name, "took", took, "err", err)
		}),
	)

	// Telemetry is added first so that it stops last, with the spans of
	// every request written; the simulators next, so that the requests the
	// gateway finishes during shutdown still reach them.
	g.Add("telemetry", shutdown.Func(nil, tel.stop))
	urls := map[string]string{}
	for _, name := range names {
		if urls[name] = cfg.urls[name]; urls[name] != "" {
			continue
		}
		sim := cfg.sims[name]
		if sim == nil {
			return fmt.Errorf("%s: no URL and no simulator", name)
		}
		c, ln, err := sim.listen()
		if err != nil {
			return err
		}
		defer ln.Close() // the server closes it once started; this covers a group stopped before that
		g.Add("sim-"+name, c)
		urls[name] = "http://" + ln.Addr().String()
	}

	// One client for every downstream call, so that connections are reused
	// across requests. It has no Timeout of its own: every call carries its
	// deadline in its context, set by the request's budget.
	transport := &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{Timeout: time.Second, KeepAlive: 30 * time.Second}).DialContext,
		// The default keeps 2 idle connections per host: under load, most
		// would be closed after one use and dialled again for the next.
		MaxIdleConns:          300,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   time.Second,
		ResponseHeaderTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	gw := &gateway{
		cfg:    cfg,
		client: &http.Client{Transport: transport},
		tel:    tel,
		fan:    weftotel.NewFanout("product", tel.opts...),
		deps:   map[string]*dependency{},
	}
	for _, name := range names {
		gw.deps[name] = newDependency(name, urls[name], cfg.openFor, tel)
	}
	// Added before the server, so stopped after it: once no handler is left
	// to use the client, its idle connections are closed.
	g.Add("client", shutdown.Func(nil, func(context.Context) error {
		transport.CloseIdleConnections()
		return nil
	}))

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /product/{id}", gw.product)
	mux.Handle("GET /readyz", g.Ready())
	mux.Handle("GET /livez", g.Live())
	mux.Handle("GET /metrics", tel.handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	g.Add("http", shutdown.HTTPServer(srv, shutdown.Listener(ln)))

	// Say when the gateway is ready, when /readyz starts answering 200, and
	// when it stops being ready.
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-g.Started():
			addr := ln.Addr().String()
			log.Info("serving", "addr", "http://"+addr, details, urls[details], price, urls[price], recs, urls[recs])
			if cfg.ready != nil {
				cfg.ready(addr)
			}
		case <-g.ShuttingDown():
		}
		<-g.ShuttingDown()
		log.Info(fmt.Sprintf("%s, draining (ready=false)", why(ctx)), "drain_delay", cfg.drainDelay)
	})
	err = g.Run(ctx)
	wg.Wait()
	return err
}

// why says what began the shutdown: "received SIGTERM" for a signal.
func why(ctx context.Context) string {
	var se *shutdown.SignalError
	if err := context.Cause(ctx); errors.As(err, &se) {
		name := se.Signal.String()
		switch se.Signal {
		case syscall.SIGTERM:
			name = "SIGTERM"
		case syscall.SIGINT:
			name = "SIGINT"
		}
		return "received " + name
	} else if err != nil {
		return "stopping: " + err.Error()
	}
	return "stopping: a component failed"
}

// gateway answers /product/{id}.
type gateway struct {
	cfg    config
	client *http.Client
	deps   map[string]*dependency
	tel    *telemetry
	fan    *weftotel.Fanout // records the three calls of each request
}

// answer is the body of a successful /product/{id}.
type answer struct {
	ID              string          `json:"id"`
	Details         json.RawMessage `json:"details"`
	Price           json.RawMessage `json:"price"`
	Recommendations json.RawMessage `json:"recommendations,omitempty"`
	Degraded        bool            `json:"degraded"`
	LeftOut         []string        `json:"left_out,omitempty"` // the optional parts missing, if Degraded
}

// failure is the body of an error answer. Call names the downstream call
// that failed, if one did.
type failure struct {
	Error string `json:"error"`
	Call  string `json:"call,omitempty"`
}

func (gw *gateway) product(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, span := gw.tel.tracer.Start(r.Context(), "GET /product/{id}",
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.route", "/product/{id}")))
	defer span.End()
	id := r.PathValue("id")
	if n, err := strconv.ParseUint(id, 10, 63); err != nil || n == 0 {
		gw.reply(ctx, w, start, "bad_request", http.StatusBadRequest, failure{Error: fmt.Sprintf("product id %q is not a positive integer", id)})
		return
	}

	ctx, cancel := context.WithTimeout(ctx, gw.cfg.budget)
	defer cancel()
	// Gather recorded: a span for the fan-out, a child span and a duration
	// for each call.
	res, err := weftotel.Gather(ctx, gw.fan,
		fanout.Required(details, 0, gw.deps[details].get(gw.client, gw.tel.tracer, id)),
		fanout.Required(price, 0, gw.deps[price].get(gw.client, gw.tel.tracer, id)),
		fanout.Optional(recs, gw.cfg.recsTimeout, gw.deps[recs].get(gw.client, gw.tel.tracer, id)),
	)

	if err != nil {
		ce := err.(*fanout.CallError) // Gather's error is always one
		outcome, code := "failed", http.StatusBadGateway
		var open *breaker.OpenError
		switch {
		case errors.Is(err, errNotFound):
			outcome, code = "not_found", http.StatusNotFound
		case errors.As(err, &open):
			// The breaker refused without calling: say when it will try
			// again. A half-open breaker whose probe is out may admit
			// calls at any moment (RetryAfter 0): a second, then.
			code = http.StatusServiceUnavailable
			s := max(math.Ceil(open.RetryAfter().Seconds()), 1)
			w.Header().Set("Retry-After", strconv.Itoa(int(s)))
		case r.Context().Err() != nil:
			// The client hung up: nobody reads the answer, and the
			// dependencies did not fail.
			outcome, code = "canceled", 499
		case ce.Status == fanout.TimedOut:
			code = http.StatusGatewayTimeout
		}
		// The message is for whoever reads the logs of the client; a public
		// API would say less about its insides.
		gw.reply(ctx, w, start, outcome, code, failure{Error: err.Error(), Call: ce.Name})
		return
	}

	a := answer{ID: id, Details: res[0].Value, Price: res[1].Value, Recommendations: res[2].Value, Degraded: res.Degraded()}
	outcome := "full"
	if a.Degraded {
		outcome = "degraded"
		for _, c := range res {
			if c.Status != fanout.OK {
				a.LeftOut = append(a.LeftOut, c.Name)
			}
		}
	}
	gw.reply(ctx, w, start, outcome, http.StatusOK, a)
}

// reply records the request, in /metrics and on the span in ctx, and writes
// body as JSON. It records first, so that a client that has its answer finds
// it counted in /metrics.
func (gw *gateway) reply(ctx context.Context, w http.ResponseWriter, start time.Time, outcome string, code int, body any) {
	gw.tel.requests.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attribute.String("outcome", outcome)))
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String("outcome", outcome), attribute.Int("http.response.status_code", code))
	if code >= 500 {
		span.SetStatus(codes.Error, outcome)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// dependency is one downstream service as the gateway sees it: where it is,
// the breaker in front of it, and how calls to it are retried.
type dependency struct {
	name    string
	url     string
	breaker *breaker.Breaker
	retry   retry.Policy
}

// errNotFound is a downstream's 404: an answer, not a failure.
var errNotFound = errors.New("not found")

// newDependency sets up the breaker and the retry policy of a downstream,
// both recorded by tel under the downstream's name.
func newDependency(name, url string, openFor time.Duration, tel *telemetry) *dependency {
	d := &dependency{name: name, url: url}
	// weftotel.Breaker names the breaker and sets its hooks: its state,
	// transitions and rejections go to /metrics.
	d.breaker = breaker.New(append(weftotel.Breaker(name, tel.opts...),
		// Trip on the share of failures over the last 10s, and only once
		// 20 calls are in the window: a burst of timeouts while the machine
		// is busy (a few calls out of many) or at startup (a few calls in
		// all) does not open the circuit and turn every request away, as
		// "5 failures in a row" would; a service that fails for real fails
		// most calls, and that trips it within the window.
		breaker.TimeWindow(10*time.Second, 10),
		breaker.FailureRate(0.5),
		breaker.MinCalls(20),
		breaker.OpenFor(openFor),
		breaker.Classify(func(err error) breaker.Outcome {
			if errors.Is(err, errNotFound) {
				return breaker.Success // the service works: the product does not exist
			}
			return breaker.DefaultOutcome(err)
		}),
	)...)
	// weftotel.Retry records the attempts of each call in /metrics, and each
	// retry as an event on the call's span.
	d.retry = retry.New(
		weftotel.Retry(name, tel.opts...),
		retry.Attempts(3),
		// Short waits, for a request budget of 200ms; the policy gives up at
		// once rather than wait past the call's deadline.
		retry.Exponential(10*time.Millisecond, 2, 50*time.Millisecond),
		// One budget for all the calls to this service: when it fails for
		// everyone, retries stop instead of tripling its load.
		retry.WithBudget(retry.NewBudget(10, 0.1)),
	)
	return d
}

// get returns the Gather call that GETs the downstream's answer for id.
//
// The retry loop is outside the breaker, so that every attempt asks the
// breaker first; an open circuit's error is not retried (retry's default),
// since the breaker already knows the service is down. Only GETs come
// through here, and a GET is idempotent, so repeating one after a timeout
// cannot do anything twice. A call that changes something (placing an order)
// must not be retried like this without an idempotency key.
//
// Each attempt has a span, a child of the call's, that says whether the
// breaker admitted it (gateway.breaker.verdict) and, if it did, how the
// downstream answered.
func (d *dependency) get(client *http.Client, tracer trace.Tracer, id string) func(context.Context) (json.RawMessage, error) {
	return func(ctx context.Context) (json.RawMessage, error) {
		attempt := 0
		return retry.Do(ctx, d.retry, func(ctx context.Context) (json.RawMessage, error) {
			attempt++
			ctx, span := tracer.Start(ctx, "GET "+d.name,
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.Int("gateway.attempt", attempt)))
			defer span.End()
			v, err := breaker.Do(ctx, d.breaker, func(ctx context.Context) (json.RawMessage, error) {
				span.SetAttributes(attribute.String("gateway.breaker.verdict", "admitted"))
				return fetch(ctx, client, d.url, id)
			})
			var open *breaker.OpenError
			if errors.As(err, &open) {
				span.SetAttributes(attribute.String("gateway.breaker.verdict", "rejected"),
					attribute.String("gateway.breaker.state", open.State.String()))
			}
			if err != nil {
				span.SetStatus(codes.Error, err.Error())
			}
			return v, err
		})
	}
}

// fetch makes one GET of base/id. Errors that another attempt cannot fix
// are marked retry.Permanent.
func fetch(ctx context.Context, client *http.Client, base, id string) (json.RawMessage, error) {
	u := strings.TrimSuffix(base, "/") + "/" + id
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, retry.Permanent(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err // refused, reset, timed out: worth another attempt
	}
	defer resp.Body.Close()
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	// Read the body (up to 1 MiB) to its end even on errors, so that the
	// connection goes back to the pool instead of being closed.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case err != nil:
		return nil, err
	case resp.StatusCode == http.StatusOK && json.Valid(body):
		return body, nil
	case resp.StatusCode == http.StatusOK:
		return nil, fmt.Errorf("GET %s: the answer is not JSON", u)
	case resp.StatusCode == http.StatusNotFound:
		return nil, retry.Permanent(errNotFound)
	case resp.StatusCode < 500:
		return nil, retry.Permanent(fmt.Errorf("GET %s: %s", u, resp.Status)) // our request is wrong
	default:
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
}
