package embedded_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/jetstream/embedded"
)

func TestStartServesJetStreamAndKeepsItsDataAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	srv, err := embedded.Start(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, srv.Dir())
	assert.True(t, srv.NATS().JetStreamEnabled())
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname())
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)

	ctx := context.Background()
	js, err := jetstream.New(srv.Conn())
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "kept", Subjects: []string{"kept"}})
	require.NoError(t, err)
	_, err = js.Publish(ctx, "kept", []byte("hello"))
	require.NoError(t, err)
	srv.Stop()
	srv.Stop() // a second Stop does nothing
	assert.True(t, srv.Conn().IsClosed())

	srv, err = embedded.Start(dir, embedded.Port(port))
	require.NoError(t, err)
	defer srv.Stop()
	assert.Equal(t, u.String(), srv.URL())
	js, err = jetstream.New(srv.Conn())
	require.NoError(t, err)
	s, err := js.Stream(ctx, "kept")
	require.NoError(t, err)
	m, err := s.GetMsg(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(m.Data))
}

func TestStartReportsWhatKeepsTheServerFromRunning(t *testing.T) {
	_, err := embedded.Start("")
	require.ErrorContains(t, err, "empty directory")

	_, err = embedded.Start(t.TempDir(), embedded.Configure(func(o *server.Options) { o.JetStream = false }))
	require.ErrorContains(t, err, "JetStream disabled")

	_, err = embedded.Start(t.TempDir(), embedded.Configure(func(o *server.Options) { o.ServerName = "has spaces" }))
	require.Error(t, err)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	_, err = embedded.Start(t.TempDir(), embedded.Port(l.Addr().(*net.TCPAddr).Port), embedded.ReadyTimeout(time.Second))
	require.ErrorIs(t, err, embedded.ErrNotReady)
}

func TestConnOptionsApplyToTheConnection(t *testing.T) {
	srv, err := embedded.Start(t.TempDir(), embedded.ConnOptions(nats.Name("mine")), nil)
	require.NoError(t, err)
	defer srv.Stop()
	assert.Equal(t, "mine", srv.Conn().Opts.Name)
}

func TestOptionsPanicWhenTheyCanNeverWork(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"Port(-1)", func() { embedded.Port(-1) }},
		{"Port(65536)", func() { embedded.Port(65536) }},
		{"ReadyTimeout(0)", func() { embedded.ReadyTimeout(0) }},
		{"Configure(nil)", func() { embedded.Configure(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Panics(t, tt.f)
		})
	}
}
