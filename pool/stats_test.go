package pool_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/weftgo/weft/pool"
)

// Every field of Stats is printed by String, under its own name, with its
// own value.
func TestStatsString(t *testing.T) {
	s := pool.Stats{
		Submitted: 1, Succeeded: 2, Failed: 3, Panicked: 4, Canceled: 5, DeadLettered: 6, Rejected: 7,
		Queued: 8, Running: 9, Waiting: 10, Retried: 11, Undelivered: 12, Blocked: 13, QueueHighWater: 14, Workers: 15,
	}
	want := "submitted=1 succeeded=2 failed=3 panicked=4 canceled=5 dead_lettered=6 rejected=7 " +
		"queued=8 running=9 waiting=10 retried=11 undelivered=12 blocked=13 queue_high_water=14 workers=15"
	assert.Equal(t, want, s.String())
	assert.Equal(t, reflect.TypeFor[pool.Stats]().NumField(), strings.Count(s.String(), "="), "one pair per field")
	assert.Equal(t, want, fmt.Sprint(s), "%v of a Stats")
	assert.Equal(t, want, fmt.Sprint(&s), "%v of a *Stats")
	assert.Equal(t, "submitted=0 succeeded=0 failed=0 panicked=0 canceled=0 dead_lettered=0 rejected=0 "+
		"queued=0 running=0 waiting=0 retried=0 undelivered=0 blocked=0 queue_high_water=0 workers=0", pool.Stats{}.String())
}
