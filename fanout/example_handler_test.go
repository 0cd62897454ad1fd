package fanout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/weftgo/weft/fanout"
)

// A product page needs the user's profile and cart, and would like
// recommendations. The page has 200 ms; the recommendations service, which
// is often slow, gets 150 ms of them as an optional call. When it does not
// answer in time the page goes out without it, marked degraded, instead of
// failing.

// page is the handler's answer. Missing lists the optional parts left out,
// so that the client can say so.
type page struct {
	Profile         json.RawMessage `json:"profile"`
	Cart            json.RawMessage `json:"cart"`
	Recommendations json.RawMessage `json:"recommendations,omitempty"`
	Missing         []string        `json:"missing,omitempty"`
}

// productPage calls the three services in parallel.
func productPage(profileURL, cartURL, recsURL string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 200*time.Millisecond)
		defer cancel()

		res, err := fanout.Gather(ctx,
			fanout.Required("profile", 0, fetch(profileURL)),
			fanout.Required("cart", 0, fetch(cartURL)),
			fanout.Optional("recommendations", 150*time.Millisecond, fetch(recsURL)),
		)
		if err != nil { // a required call failed: its name is in err
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		p := page{Profile: res[0].Value, Cart: res[1].Value, Recommendations: res[2].Value}
		if res.Degraded() {
			for _, r := range res {
				if r.Status != fanout.OK { // r.Err says why; log it or count it
					p.Missing = append(p.Missing, r.Name+" "+r.Status.String())
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p)
	}
}

// fetch returns a call that GETs url with the call's context, so that the
// request is abandoned when the call's time is up.
func fetch(url string) func(context.Context) (json.RawMessage, error) {
	return func(ctx context.Context) (json.RawMessage, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		body, err := io.ReadAll(resp.Body)
		return json.RawMessage(body), err
	}
}

// service stands in for a backend that answers body after delay, or gives
// up when the caller does.
func service(delay time.Duration, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
			fmt.Fprint(w, body)
		case <-r.Context().Done():
		}
	}))
}

func Example_productPage() {
	profile := service(0, `{"name":"Ada"}`)
	defer profile.Close()
	cart := service(10*time.Millisecond, `["notebook","pen"]`)
	defer cart.Close()
	recs := service(time.Second, `["ink"]`) // too slow today
	defer recs.Close()

	front := httptest.NewServer(productPage(profile.URL, cart.URL, recs.URL))
	defer front.Close()

	resp, err := http.Get(front.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Print(string(body))
	// Output:
	// 200 OK
	// {"profile":{"name":"Ada"},"cart":["notebook","pen"],"missing":["recommendations timed out"]}
}
