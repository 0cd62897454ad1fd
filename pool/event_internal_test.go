package pool

import (
	"context"
	"testing"
)

// The probe finds the key context.Cause looks up, so a job's context hides
// the submitter's cancellation without an allocation per lookup.
func TestCancelKeyFound(t *testing.T) {
	if cancelKey == nil {
		t.Fatal("cancelKey not found")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if ctx.Value(cancelKey) != ctx {
		t.Fatalf("a cancellable context does not find itself under cancelKey")
	}
}
