package bench

import (
	"context"
	"net/http"
	"testing"
)

// maxExtraAllocs is what complykit's typed call may allocate on top of raw
// net/http (a hand-set bearer header, io.ReadAll, json.Unmarshal into the
// same generated model), client side only: the generated client's request
// building, the editors, the Doer with its cache, origin check and retry
// policy, and the pooled, capped decode.
const maxExtraAllocs = 6

// maxOverFloor is what the typed call may allocate on top of the best raw
// client that reads the body whole (rawpool: the same pooled, pre-sized
// buffer as complykit's, then json.Unmarshal into the same model).
// docs/benchmarks.md states the measured figure.
const maxOverFloor = 7

// Allocation counts are exact, so this is a test, not a timing: the typed
// call through the generated client stays within raw + maxExtraAllocs and
// within the pooled floor + maxOverFloor.
func TestTypedCallAllocationsStayNearRaw(t *testing.T) {
	hc := &http.Client{Transport: inProcessTransport{apiHandler()}}
	counts := map[string]float64{}
	for _, c := range contenders {
		if c.name != "raw" && c.name != "rawpool" && c.name != "complykit" {
			continue
		}
		call := c.setup(t, "https://api.stenn.test", hc, bodyStenn)
		ctx := context.Background()
		if n, err := call(ctx); err != nil || n != 2 {
			t.Fatalf("%s: %d companies, %v", c.name, n, err)
		}
		counts[c.name], _ = memPerCall(200, func() {
			if _, err := call(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	raw, floor, ck := counts["raw"], counts["rawpool"], counts["complykit"]
	t.Logf("allocations per call: raw %.1f, rawpool %.1f, complykit %.1f", raw, floor, ck)
	// Under -race, sync.Pool drops a quarter of what it is given, at
	// random: a pooled reader then allocates its buffer again.
	slack := 0.0
	if raceEnabled {
		slack = 1
	}
	if ck > raw+maxExtraAllocs+slack {
		t.Errorf("complykit allocates %.1f per call, raw %.1f: more than raw + %d", ck, raw, maxExtraAllocs)
	}
	if ck > floor+maxOverFloor+slack {
		t.Errorf("complykit allocates %.1f per call, the pooled floor %.1f: more than floor + %d", ck, floor, maxOverFloor)
	}
}
