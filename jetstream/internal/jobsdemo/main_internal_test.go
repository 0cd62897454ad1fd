package main

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/jetstream/embedded"
)

func TestProducerAndWorkerAccountForEveryJob(t *testing.T) {
	srv, err := embedded.Start(t.TempDir())
	require.NoError(t, err)
	defer srv.Stop()
	ctx := context.Background()
	require.NoError(t, run(ctx, srv.URL(), "unit", "producer", 20, 0, 0, 0, time.Second))
	require.ErrorContains(t, run(ctx, srv.URL(), "unit", "neither", 0, 0, 0, 0, time.Second), "unknown role")

	wctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- run(wctx, srv.URL(), "unit", "worker", 0, 4, time.Millisecond, 5, time.Second) }()
	js, err := jetstream.New(srv.Conn())
	require.NoError(t, err)
	count := func(name string) uint64 {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return 0
		}
		info, err := s.Info(ctx)
		require.NoError(t, err)
		return info.State.Msgs
	}
	require.Eventually(t, func() bool { return count("unit_DONE") == 16 && count("unit_DLQ") == 4 }, 20*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-errc)
}
