package bench

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// results are the samples of a raw benchmark output (go test -bench), by
// benchmark name without its -GOMAXPROCS suffix, in the order of the file:
// bench/run.sh appends one round after the other, so the i-th sample of
// every benchmark comes from round i.
type results map[string][]map[string]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

func readResults(path string) (results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := results{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		m := map[string]float64{}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %v", path, sc.Text(), err)
			}
			m[fields[i+1]] = v
		}
		out[name] = append(out[name], m)
	}
	return out, sc.Err()
}

// values returns the samples of unit for name, or an error naming both.
func (r results) values(name, unit string) ([]float64, error) {
	samples, ok := r[name]
	if !ok {
		return nil, fmt.Errorf("no benchmark %s in the raw output", name)
	}
	var xs []float64
	for _, s := range samples {
		v, ok := s[unit]
		if !ok {
			return nil, fmt.Errorf("benchmark %s has no %s", name, unit)
		}
		xs = append(xs, v)
	}
	return xs, nil
}

// A summary is benchstat's: the median of the samples and its 95%
// confidence interval, distribution-free (order statistics of the binomial
// distribution), so the tables here show what benchstat shows for the same
// file. Lo and Hi are infinite with too few samples (benchstat needs 6).
type summary struct {
	center, lo, hi, min, max float64
	n                        int
}

func summarize(xs []float64) summary {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	sum := summary{n: n, min: s[0], max: s[n-1], center: quantile(s, 0.5)}
	l, r := medianOrders(n, 0.95)
	sum.lo, sum.hi = math.Inf(-1), math.Inf(1)
	if l >= 1 {
		sum.lo = s[l-1]
	}
	if r-1 < n {
		sum.hi = s[r-1]
	}
	return sum
}

// pct is benchstat's "± x%".
func (s summary) pct() string {
	if math.IsInf(s.lo, 0) || math.IsInf(s.hi, 0) {
		return "±∞"
	}
	if s.center == 0 {
		return "±0%"
	}
	return fmt.Sprintf("±%.0f%%", 100*math.Max(s.hi/s.center-1, 1-s.lo/s.center))
}

// quantile is the R8 sample quantile of sorted s (as go-moremath's
// stats.Sample.Quantile, which benchstat uses).
func quantile(s []float64, q float64) float64 {
	n := 1/3.0 + q*(float64(len(s))+1/3.0)
	kf, frac := math.Modf(n)
	k := int(kf)
	if k <= 0 {
		return s[0]
	} else if k >= len(s) {
		return s[len(s)-1]
	}
	return s[k-1] + frac*(s[k]-s[k-1])
}

// medianOrders is go-moremath's stats.QuantileCI(n, 0.5, confidence) for
// n <= 30 (the exact binomial path): the 1-based order statistics that
// bound the interval.
func medianOrders(n int, confidence float64) (l, r int) {
	pmf := func(k int) float64 {
		if k < 0 || k > n {
			return 0
		}
		return choose(n, k) * math.Pow(0.5, float64(k)) * math.Pow(0.5, float64(n-k))
	}
	x := int(math.Ceil(float64(n+1)*0.5) - 1)
	accum := pmf(x)
	l, r = x, x+1
	lp, rp := pmf(l-1), pmf(r)
	for accum < confidence && (lp > 0 || rp > 0) {
		if lp >= rp {
			accum += lp
			l--
			lp = pmf(l - 1)
		} else {
			accum += rp
			r++
			rp = pmf(r)
		}
	}
	if l < 0 {
		l = 0
	}
	if r > n+1 {
		r = n + 1
	}
	return l, r
}

// choose is go-moremath's mathx.Choose.
func choose(n, k int) float64 {
	if k == 0 || k == n {
		return 1
	}
	if k < 0 || n < k {
		return 0
	}
	if n <= 20 {
		numer := int64(1)
		for n1 := int64(n - (k - 1)); n1 <= int64(n); n1++ {
			numer *= n1
		}
		denom := int64(1)
		for i := int64(2); i <= int64(k); i++ {
			denom *= i
		}
		return float64(numer / denom)
	}
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return math.Exp(a - b - c)
}

// pairedRatios is, round by round, a's sample over b's: bench/run.sh runs
// the contenders of a round back to back, so a ratio within a round
// cancels most of the machine's drift between rounds.
func pairedRatios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	out := make([]float64, n)
	for i := range out {
		out[i] = a[i] / b[i]
	}
	return out
}

// TestSummaryIsBenchstats pins summarize to what benchstat
// (golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da) prints for the
// same samples: "18.70µ ± 28%" and "17.41µ ± 20%".
func TestSummaryIsBenchstats(t *testing.T) {
	for _, c := range []struct {
		xs     []float64
		center string
		pct    string
	}{
		{[]float64{19795.8, 23950.5, 22677.2, 13879.6, 14468.3, 17599.8}, "18.70", "±28%"},
		{[]float64{18446.1, 13954.2, 18151.4, 17093.5, 14235.7, 14885.0, 27397.1, 18123.5, 11758.9, 17730.4}, "17.41", "±20%"},
	} {
		s := summarize(c.xs)
		if got := fmt.Sprintf("%.2f", s.center/1000); got != c.center || s.pct() != c.pct {
			t.Errorf("summarize(%v) = %s %s; want %s %s (benchstat's)", c.xs, got, s.pct(), c.center, c.pct)
		}
	}
	if got := summarize([]float64{1, 2, 3, 4, 5}).pct(); got != "±∞" {
		t.Errorf("5 samples: %s; want ±∞ (benchstat needs 6)", got)
	}
}
