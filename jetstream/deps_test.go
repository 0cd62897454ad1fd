package jetstream_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPackageDoesNotLinkTheServer: a program that connects to a cluster
// imports this package and not embedded, and gets no NATS server with it.
func TestPackageDoesNotLinkTheServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "github.com/nats-io/nats.go/jetstream\n")
	require.NotContains(t, string(out), "nats-server", "the package's dependencies: %s", strings.Fields(string(out)))
}
