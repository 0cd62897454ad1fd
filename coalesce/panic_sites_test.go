package coalesce_test

import (
	"bytes"
	"context"
	"errors"
	"log"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/coalesce"
)

func panics(context.Context) (int, error) { panic("site") }

// abandoned starts an execution of key "k" on g whose only caller leaves
// before fn panics, and waits until the execution has ended.
func abandoned(g *coalesce.Flight[string, int]) {
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	ch := g.DoChan(ctx, "k", func(context.Context) (int, error) {
		<-release
		panic("site")
	})
	synctest.Wait()
	cancel()
	<-ch
	close(release)
	synctest.Wait()
}

// captureLog returns what the standard logger wrote while f ran.
func captureLog(f func()) string {
	var buf bytes.Buffer
	out, flags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	log.SetFlags(0)
	defer func() {
		log.SetOutput(out)
		log.SetFlags(flags)
	}()
	f()
	return buf.String()
}

// Every place this package recovers a panic and where it is delivered: a
// panic in fn goes to every caller still waiting on the execution, through
// the same path as fn's error; one that no caller is left to receive goes to
// the OnPanic hook, whose default writes it with the standard logger. Signal
// and Latest run no user code.
func TestPanicSites(t *testing.T) {
	tests := []struct {
		name string
		// run makes fn panic with "site" and returns what the standard
		// logger wrote and the error the caller or the hook received.
		run func() (string, error)
		// Where the panic must be: in the returned error, and in the log
		// (each string in order; none for an empty log).
		wantErr bool
		wantLog []string
	}{
		{
			name: "Do on the caller's goroutine: Do's error",
			run: func() (string, error) {
				var g coalesce.Flight[string, int]
				_, err := g.Do(context.Background(), "k", panics)
				return "", err
			},
			wantErr: true,
		},
		{
			name: "Do on a goroutine of the Flight's: Do's error",
			run: func() (string, error) {
				var g coalesce.Flight[string, int]
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				_, err := g.Do(ctx, "k", panics)
				return "", err
			},
			wantErr: true,
		},
		{
			name: "DoChan: the Result's Err",
			run: func() (string, error) {
				var g coalesce.Flight[string, int]
				return "", (<-g.DoChan(context.Background(), "k", panics)).Err
			},
			wantErr: true,
		},
		{
			name: "a caller that joined: its own error",
			run: func() (string, error) {
				var g coalesce.Flight[string, int]
				release := make(chan struct{})
				first := g.DoChan(context.Background(), "k", func(context.Context) (int, error) {
					<-release
					panic("site")
				})
				synctest.Wait()
				joined := g.DoChan(context.Background(), "k", panics)
				close(release)
				<-first
				return "", (<-joined).Err
			},
			wantErr: true,
		},
		{
			name: "an execution every caller left: the OnPanic hook, with the key",
			run: func() (string, error) {
				var got error
				g := coalesce.NewFlight[string, int](coalesce.OnPanic(func(key string, pe *weft.PanicError) {
					if key == "k" {
						got = pe
					}
				}))
				logged := captureLog(func() { abandoned(g) })
				return logged, got
			},
			wantErr: true,
		},
		{
			name: "an execution every caller left, no OnPanic: the standard logger",
			run: func() (string, error) {
				return captureLog(func() { abandoned(new(coalesce.Flight[string, int])) }), nil
			},
			wantLog: []string{"coalesce: panic in an execution every caller had left, key k: weft: panic: site\ngoroutine "},
		},
		{
			name: "an OnPanic hook that panics: the standard logger, both panics",
			run: func() (string, error) {
				g := coalesce.NewFlight[string, int](coalesce.OnPanic(func(string, *weft.PanicError) { panic("hook") }))
				return captureLog(func() { abandoned(g) }), nil
			},
			wantLog: []string{
				"coalesce: panic in an execution every caller had left, key k: weft: panic: site\ngoroutine ",
				"coalesce: OnPanic hook panicked on key k: weft: panic: hook\ngoroutine ",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logged, err := tt.run()
				var pe *weft.PanicError
				inErr := errors.As(err, &pe) && pe.Value == "site" && len(pe.Stack) > 0
				assert.Equal(t, tt.wantErr, inErr, "error %v", err)
				rest := logged
				for _, want := range tt.wantLog {
					_, after, found := strings.Cut(rest, want)
					require.True(t, found, "log %q lacks %q", logged, want)
					rest = after
				}
				assert.Equal(t, len(tt.wantLog) == 0, logged == "", "log %q", logged)
			})
		})
	}
}
