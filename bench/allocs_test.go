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

// Allocation counts are exact, so this is a test, not a timing: the typed
// call through the generated client stays within raw + maxExtraAllocs.
func TestTypedCallAllocationsStayNearRaw(t *testing.T) {
	hc := &http.Client{Transport: inProcessTransport{apiHandler()}}
	counts := map[string]float64{}
	for _, c := range contenders {
		if c.name != "raw" && c.name != "complykit" {
			continue
		}
		call := c.setup(&testing.B{}, "https://api.stenn.test", hc)
		ctx := context.Background()
		if n, err := call(ctx); err != nil || n != 2 {
			t.Fatalf("%s: %d companies, %v", c.name, n, err)
		}
		counts[c.name] = testing.AllocsPerRun(200, func() {
			if _, err := call(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Logf("allocations per call: raw %.0f, complykit %.0f", counts["raw"], counts["complykit"])
	if counts["complykit"] > counts["raw"]+maxExtraAllocs {
		t.Errorf("complykit allocates %.0f per call, raw %.0f: more than raw + %d", counts["complykit"], counts["raw"], maxExtraAllocs)
	}
}
