package bench

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The tables of docs/benchmarks.md and of the README's "Benchmarks and
// faults" section are generated from the raw outputs in docs/bench/ (which
// bench/run.sh writes), between <!-- bench:NAME --> and <!-- /bench:NAME -->
// markers, so the docs cannot drift from the outputs.

const benchDir = "../docs/bench"

var docFiles = []string{"../docs/benchmarks.md", "../README.md"}

// TestBenchmarkDocs fails if a generated part of the docs differs from what
// the raw outputs in docs/bench/ give; -update rewrites those parts.
func TestBenchmarkDocs(t *testing.T) {
	rep, err := loadReport(benchDir)
	if err != nil {
		t.Fatalf("%v (regenerate the outputs with bench/run.sh)", err)
	}
	sections, err := rep.sections()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, path := range docFiles {
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := fillSections(string(old), sections, used)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if *updateReport {
			if doc != string(old) {
				if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if doc != string(old) {
			t.Errorf("%s is not what the raw outputs in docs/bench give; run: go test ./bench -run TestBenchmarkDocs -update\n%s", path, firstDiff(string(old), doc))
		}
	}
	for name := range sections {
		if !used[name] {
			t.Errorf("generated section %q is in no doc", name)
		}
	}
}

var sectionRE = regexp.MustCompile(`(?s)<!-- bench:([a-z0-9-]+) -->\n.*?<!-- /bench:([a-z0-9-]+) -->`)

func fillSections(doc string, sections map[string]string, used map[string]bool) (string, error) {
	var errs []string
	out := sectionRE.ReplaceAllStringFunc(doc, func(m string) string {
		sub := sectionRE.FindStringSubmatch(m)
		if sub[1] != sub[2] {
			errs = append(errs, fmt.Sprintf("section %q ends as %q", sub[1], sub[2]))
			return m
		}
		body, ok := sections[sub[1]]
		if !ok {
			errs = append(errs, fmt.Sprintf("no generated section %q", sub[1]))
			return m
		}
		used[sub[1]] = true
		return "<!-- bench:" + sub[1] + " -->\n" + body + "<!-- /bench:" + sub[1] + " -->"
	})
	if len(errs) > 0 {
		return "", fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  doc:       %s\n  generated: %s", i+1, x, y)
		}
	}
	return ""
}

// report holds the raw outputs of one bench/run.sh.
type report struct {
	env                                                    []string // env.txt, "key: value" lines
	peers, alternating, sizes, telemetry, tokenpath, storm results
	errs                                                   []string
}

func loadReport(dir string) (*report, error) {
	r := &report{}
	f, err := os.Open(filepath.Join(dir, "env.txt"))
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		r.env = append(r.env, sc.Text())
	}
	f.Close()
	for name, dst := range map[string]*results{"peers": &r.peers, "alternating": &r.alternating, "sizes": &r.sizes, "telemetry": &r.telemetry, "tokenpath": &r.tokenpath, "storm": &r.storm} {
		res, err := readResults(filepath.Join(dir, name+".txt"))
		if err != nil {
			return nil, err
		}
		*dst = res
	}
	return r, nil
}

func (r *report) envValue(key string) string {
	for _, l := range r.env {
		if v, ok := strings.CutPrefix(l, key+": "); ok {
			return v
		}
	}
	return "unknown"
}

// get is the summary of unit for name in res; a missing benchmark is
// recorded and shows as NaN.
func (r *report) get(res results, name, unit string) summary {
	xs, err := res.values(name, unit)
	if err != nil {
		r.errs = append(r.errs, err.Error())
		return summary{center: math.NaN(), lo: math.NaN(), hi: math.NaN(), min: math.NaN(), max: math.NaN()}
	}
	return summarize(xs)
}

func (r *report) raw(res results, name, unit string) []float64 {
	xs, err := res.values(name, unit)
	if err != nil {
		r.errs = append(r.errs, err.Error())
	}
	return xs
}

// ratio is the paired ratio (bench/run.sh's rounds) of a over b, as
// "1.03x ±2%".
func (r *report) ratio(res results, a, b, unit string) (summary, string) {
	xa, xb := r.raw(res, a, unit), r.raw(res, b, unit)
	if len(xa) == 0 || len(xb) == 0 {
		return summary{center: math.NaN()}, "?"
	}
	s := summarize(pairedRatios(xa, xb))
	return s, fmt.Sprintf("%.2fx %s", s.center, s.pct())
}

func peerName(bench, impl, client, body, mode string) string {
	n := bench + "/impl=" + impl
	if client != "" {
		n += "/client=" + client
	}
	return n + "/body=" + body + "/mode=" + mode
}

func remote(impl, client, body string) string {
	return peerName("ListCompaniesRemote", impl, client, body, "serial")
}

func inProcess(impl, body, mode string) string {
	return peerName("ListCompaniesInProcess", impl, "", body, mode)
}

var implLabels = map[string]string{
	"raw":             "raw (`io.ReadAll`)",
	"rawpool":         "rawpool (the floor)",
	"xoauth2":         "x/oauth2",
	"xoauth2-default": "x/oauth2 as it comes",
	"oapicodegen":     "oapi-codegen",
	"complykit":       "**complykit**",
}

var peerImpls = []string{"raw", "rawpool", "xoauth2", "oapicodegen", "complykit"}

// num formats a count: an integer as is, else with one decimal.
func num(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	if v == math.Trunc(v) {
		return groupThousands(fmt.Sprintf("%.0f", v))
	}
	return groupThousands(fmt.Sprintf("%.1f", v))
}

func groupThousands(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

func signed(v float64) string {
	if v > 0 {
		return "+" + num(v)
	}
	if v == 0 {
		return "±0"
	}
	return num(v)
}

func bytesStr(v float64) string {
	switch {
	case math.IsNaN(v):
		return "?"
	case v >= 1e6:
		return fmt.Sprintf("%.2f MB", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1f kB", v/1e3)
	default:
		return num(math.Round(v)) + " B"
	}
}

func dur(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "?"
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	default:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	}
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	return fmt.Sprintf("%.3g ms", v)
}

func pctDelta(a, b float64) string {
	return fmt.Sprintf("%+.0f%%", 100*(a/b-1))
}

// medSpan is "m" or "m (a-b)": the median and the range of the samples.
func medSpan(s summary) string {
	if s.min == s.max {
		return num(s.min)
	}
	return fmt.Sprintf("%s (%s-%s)", num(s.center), num(s.min), num(s.max))
}

// span is "a" or "a-b" over a summary's samples.
func span(s summary) string {
	if s.min == s.max {
		return num(s.min)
	}
	return num(s.min) + "-" + num(s.max)
}

// sections renders every generated part of the docs.
func (r *report) sections() (map[string]string, error) {
	s := map[string]string{
		"env":          r.envSection(),
		"commands":     r.commandsSection(),
		"peer-allocs":  r.peerAllocs(),
		"peer-times":   r.peerTimes(),
		"alternating":  r.alternatingSection(),
		"bodies":       r.bodiesSection(),
		"sizes":        r.sizesSection(),
		"tokenpath":    r.tokenPathSection(),
		"storm":        r.stormSection(),
		"telemetry":    r.telemetrySection(),
		"claims":       r.claims(),
		"readme-table": r.readmeTable(),
	}
	if len(r.errs) > 0 {
		return nil, fmt.Errorf("the raw outputs lack what the docs show (regenerate them with bench/run.sh):\n%s", strings.Join(r.errs, "\n"))
	}
	return s, nil
}

func (r *report) envSection() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s at commit %s: %s, %s, x/oauth2 %s, oapi-codegen %s. The machine is shared and\n",
		r.envValue("date"), r.envValue("commit"), r.envValue("cpu"), r.envValue("go"), r.envValue("x/oauth2"), r.envValue("oapi-codegen"))
	fmt.Fprintf(&b, "was busy with other work (load average %s at the start, %s at the end, on %s): read the\n",
		firstField(r.envValue("load at start")), firstField(r.envValue("load at end")), coresOf(r.envValue("cpu")))
	b.WriteString("allocation counts, which are exact, and the ratios within a round, before any absolute time.\n")
	fmt.Fprintf(&b, "`bench/run.sh` took %s (%s).\n", r.envValue("took"), r.envValue("rounds"))
	return b.String()
}

var roundsRE = regexp.MustCompile(`^(\d+) peer and size rounds of (\S+), (\d+) token-path rounds of (\d+) s$`)

// commandsSection says which process made which table.
func (r *report) commandsSection() string {
	m := roundsRE.FindStringSubmatch(r.envValue("rounds"))
	if m == nil {
		r.errs = append(r.errs, "env.txt: no rounds line")
		return ""
	}
	rounds, benchtime, tokenRounds, tokenSeconds := m[1], m[2], m[3], m[4]
	var b strings.Builder
	b.WriteString("| tables | raw output | each round, once per contender IMPL, in this order |\n")
	b.WriteString("|---|---|---|\n")
	fmt.Fprintf(&b, "| allocations, time, the model against a plain struct | [peers.txt](bench/peers.txt), %s rounds | `bench.test -test.run '^$' -test.bench '^BenchmarkListCompanies(InProcess\\|Remote)?$/^impl=IMPL$' -test.benchtime %s -test.count 1 -test.benchmem`, IMPL = %s |\n",
		rounds, benchtime, strings.Join(peerImpls, ", "))
	fmt.Fprintf(&b, "| time, contenders taking turns in one process | [alternating.txt](bench/alternating.txt), %s rounds | `bench.test -test.run '^$' -test.bench '^BenchmarkListCompaniesAlternating$' -test.benchtime %s -test.count 1 -test.benchmem`, after the contenders above |\n",
		rounds, benchtime)
	fmt.Fprintf(&b, "| memory that scales | [sizes.txt](bench/sizes.txt), %s rounds | `bench.test -test.run '^$' -test.bench '^BenchmarkListCompaniesSize$/^impl=IMPL$' -test.benchtime %s -test.count 1 -test.benchmem`, IMPL = %s |\n",
		rounds, benchtime, strings.Join(sizeImpls, ", "))
	var tp []string
	for _, impl := range tokenPathImpls {
		tp = append(tp, impl.name)
	}
	fmt.Fprintf(&b, "| the token path | [tokenpath.txt](bench/tokenpath.txt), %s rounds | `COMPLYKIT_TOKENPATH_SECONDS=%s bench.test -test.run '^$' -test.bench '^BenchmarkTokenPath$/^impl=IMPL$' -test.benchtime 1x -test.count 1 -test.benchmem`, IMPL = %s |\n",
		tokenRounds, tokenSeconds, strings.Join(tp, ", "))
	fmt.Fprintf(&b, "| cold callers and the 401 storm | [storm.txt](bench/storm.txt), %s rounds | `bench.test -test.run '^$' -test.bench '^Benchmark(ColdCallers\\|Concurrent401s)$/^impl=IMPL$' -test.benchtime 1x -test.count 1 -test.benchmem`, IMPL = %s |\n",
		tokenRounds, strings.Join(stormImpls, ", "))
	b.WriteString("\n`bench.test` is built once by `go test -c ./bench` and runs in `bench/`. benchstat's tables of each raw output\n")
	b.WriteString("(`benchstat -col /impl FILE.txt`) are beside it as `FILE.benchstat.txt`.\n")
	return b.String()
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

func coresOf(cpu string) string {
	if i := strings.LastIndex(cpu, ", "); i >= 0 {
		return cpu[i+2:]
	}
	return "?"
}

// peerAllocs: client-only allocations and bytes (Remote), both client
// settings, the generated model.
func (r *report) peerAllocs() string {
	var b strings.Builder
	b.WriteString("| contender | allocs/op, 30 s Timeout client | allocs/op, no Timeout | B/op, 30 s Timeout client | B/op, no Timeout |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, impl := range peerImpls {
		fmt.Fprintf(&b, "| %s |", implLabels[impl])
		for _, unit := range []string{"allocs/op", "B/op"} {
			for _, client := range []string{"timeout", "bare"} {
				v := r.get(r.peers, remote(impl, client, "stenn"), unit).center
				floor := r.get(r.peers, remote("rawpool", client, "stenn"), unit).center
				rawv := r.get(r.peers, remote("raw", client, "stenn"), unit).center
				cell := num(v)
				if unit == "B/op" {
					cell = bytesStr(v)
				}
				switch impl {
				case "raw":
				case "rawpool":
					cell += fmt.Sprintf(" (raw %s)", signed(v-rawv))
					if unit == "B/op" {
						cell = bytesStr(v) + " (raw " + pctDelta(v, rawv) + ")"
					}
				default:
					if unit == "allocs/op" {
						cell += fmt.Sprintf(" (raw %s, floor %s)", signed(v-rawv), signed(v-floor))
					} else {
						cell += " (raw " + pctDelta(v, rawv) + ")"
					}
				}
				if impl == "complykit" {
					cell = "**" + cell + "**"
				}
				fmt.Fprintf(&b, " %s |", cell)
			}
		}
		b.WriteString("\n")
	}
	n := r.get(r.peers, remote("raw", "timeout", "stenn"), "allocs/op").n
	fmt.Fprintf(&b, "\n`ListCompaniesRemote`, body `stenn`, medians of %d rounds (a count can move by one between rounds: the transport's reads).\n", n)
	return b.String()
}

// peerTimes: time per call, median ± CI, and complykit's paired ratios.
func (r *report) peerTimes() string {
	type row struct{ label, bench, client, mode string }
	rows := []row{
		{"in process, serial", "ListCompaniesInProcess", "", "serial"},
		{"in process, parallel", "ListCompaniesInProcess", "", "parallel"},
		{"loopback, Timeout client, serial", "ListCompanies", "timeout", "serial"},
		{"loopback, Timeout client, parallel", "ListCompanies", "timeout", "parallel"},
		{"loopback, no Timeout, serial", "ListCompanies", "bare", "serial"},
		{"loopback, no Timeout, parallel", "ListCompanies", "bare", "parallel"},
		{"server in another process, Timeout client", "ListCompaniesRemote", "timeout", "serial"},
		{"server in another process, no Timeout", "ListCompaniesRemote", "bare", "serial"},
	}
	var b strings.Builder
	b.WriteString("| setting | raw | rawpool | x/oauth2 | oapi-codegen | complykit | complykit / raw | complykit / rawpool |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	n := 0
	for _, rw := range rows {
		fmt.Fprintf(&b, "| %s |", rw.label)
		for _, impl := range peerImpls {
			s := r.get(r.peers, peerName(rw.bench, impl, rw.client, "stenn", rw.mode), "ns/op")
			n = s.n
			fmt.Fprintf(&b, " %s %s |", dur(s.center), s.pct())
		}
		ck := peerName(rw.bench, "complykit", rw.client, "stenn", rw.mode)
		_, vsRaw := r.ratio(r.peers, ck, peerName(rw.bench, "raw", rw.client, "stenn", rw.mode), "ns/op")
		_, vsFloor := r.ratio(r.peers, ck, peerName(rw.bench, "rawpool", rw.client, "stenn", rw.mode), "ns/op")
		fmt.Fprintf(&b, " %s | %s |\n", vsRaw, vsFloor)
	}
	fmt.Fprintf(&b, "\nTime per call, median of %d interleaved rounds ± benchstat's 95%% confidence interval; the ratios are\n", n)
	b.WriteString("the median of the per-round ratios (each round runs the contenders back to back) with its interval.\n")
	return b.String()
}

const alternatingName = "ListCompaniesAlternating"

// altRatio is, round by round, impl's time per call over base's, both from
// the same process: the median and its interval over the rounds.
func (r *report) altRatio(impl, base string) summary {
	a, b := r.raw(r.alternating, alternatingName, impl+"-ns/call"), r.raw(r.alternating, alternatingName, base+"-ns/call")
	if len(a) == 0 || len(b) == 0 {
		return summary{center: math.NaN(), lo: math.NaN(), hi: math.NaN()}
	}
	return summarize(pairedRatios(a, b))
}

func ratioStr(s summary) string {
	return fmt.Sprintf("%.2fx %s", s.center, s.pct())
}

// alternatingSection: the in-process contenders taking turns in one process.
func (r *report) alternatingSection() string {
	var b strings.Builder
	b.WriteString("| | raw | rawpool | x/oauth2 | oapi-codegen | complykit |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	b.WriteString("| time per call |")
	n := 0
	for _, impl := range peerImpls {
		s := r.get(r.alternating, alternatingName, impl+"-ns/call")
		n = s.n
		fmt.Fprintf(&b, " %s %s |", dur(s.center), s.pct())
	}
	b.WriteString("\n| against raw, same process |")
	for _, impl := range peerImpls {
		fmt.Fprintf(&b, " %s |", ratioStr(r.altRatio(impl, "raw")))
	}
	b.WriteString("\n| against rawpool, same process |")
	for _, impl := range peerImpls {
		fmt.Fprintf(&b, " %s |", ratioStr(r.altRatio(impl, "rawpool")))
	}
	fmt.Fprintf(&b, "\n\n`BenchmarkListCompaniesAlternating`: in process, serial, the generated model, turns of %d calls; medians of %d rounds\n", alternatingBatch, n)
	b.WriteString("± benchstat's 95% interval, the ratios taken within each round's process.\n")
	return b.String()
}

// bodiesSection: the generated model against the plain struct, in process.
func (r *report) bodiesSection() string {
	var b strings.Builder
	b.WriteString("| contender | allocs/op, `stenn` (generated) | allocs/op, `plain` | difference per company | B/op, `stenn` | B/op, `plain` |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, impl := range []string{"raw", "rawpool", "xoauth2", "complykit"} {
		st := r.get(r.peers, inProcess(impl, "stenn", "serial"), "allocs/op").center
		pl := r.get(r.peers, inProcess(impl, "plain", "serial"), "allocs/op").center
		sb := r.get(r.peers, inProcess(impl, "stenn", "serial"), "B/op").center
		pb := r.get(r.peers, inProcess(impl, "plain", "serial"), "B/op").center
		label, diff := implLabels[impl], signed((st-pl)/peerCompanies)
		if impl == "complykit" {
			// Two paths: the typed call, and the floor's decode through Doer().
			label += " ¹"
			diff = "¹"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", label, num(st), num(pl), diff, bytesStr(sb), bytesStr(pb))
	}
	b.WriteString("\n`ListCompaniesInProcess`, serial, the same two-company body; medians. ¹ complykit's `stenn` is its typed\n")
	b.WriteString("call (`ListCompanies`), its `plain` your own type through `Client.Doer()` with the floor's decode: two\n")
	b.WriteString("paths, so their difference is not the model's; the `plain` row against the floor's is the cost of\n")
	b.WriteString("complykit's auth path alone.\n")
	return b.String()
}

// peerCompanies is the number of companies in the peer benchmarks' body.
const peerCompanies = 2

func sizeName(impl string, n int, length string) string {
	return fmt.Sprintf("ListCompaniesSize/impl=%s/companies=%d/length=%s", impl, n, length)
}

func (r *report) sizesSection() string {
	var b strings.Builder
	b.WriteString("| companies | body | allocs/op: raw | rawpool | complykit | B/op: raw | rawpool | complykit | complykit at or below raw |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, n := range sizes {
		for _, length := range lengths {
			var a, by [3]float64
			for i, impl := range sizeImpls {
				a[i] = r.get(r.sizes, sizeName(impl, n, length), "allocs/op").center
				by[i] = r.get(r.sizes, sizeName(impl, n, length), "B/op").center
			}
			body := fmt.Sprintf("%s, %s", bytesStr(r.get(r.sizes, sizeName("raw", n, length), "body-B").center), map[string]string{"sized": "Content-Length", "chunked": "chunked"}[length])
			verdict := "bytes yes, allocs yes"
			switch {
			case by[2] > by[0] && a[2] > a[0]:
				verdict = fmt.Sprintf("**no**: %s allocs, %s bytes", signed(a[2]-a[0]), pctDelta(by[2], by[0]))
			case by[2] > by[0]:
				verdict = fmt.Sprintf("bytes **no** (%s), allocs yes", pctDelta(by[2], by[0]))
			case a[2] > a[0]:
				verdict = fmt.Sprintf("bytes yes (%s), allocs **no** (%s)", pctDelta(by[2], by[0]), signed(a[2]-a[0]))
			default:
				verdict = fmt.Sprintf("yes: %s allocs, %s bytes", signed(a[2]-a[0]), pctDelta(by[2], by[0]))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | **%s** | %s | %s | **%s** | %s |\n", num(float64(n)), body,
				num(a[0]), num(a[1]), num(a[2]), bytesStr(by[0]), bytesStr(by[1]), bytesStr(by[2]), verdict)
		}
	}
	nr := r.get(r.sizes, sizeName("raw", 10, "sized"), "allocs/op").n
	fmt.Fprintf(&b, "\n`ListCompaniesSize`, from memory (the client's allocations alone), medians of %d rounds.\n", nr)
	return b.String()
}

func tokenName(impl string, life int) string {
	return fmt.Sprintf("TokenPath/impl=%s/life=%ds", impl, life)
}

func (r *report) tokenPathSection() string {
	var b strings.Builder
	b.WriteString("| tokens | contender | rollovers | token requests | over 100 ms | p50 | p99 | p99.9 | p99.99 | max | requests |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	n := 0
	for _, life := range []int{3, 12} {
		for _, impl := range tokenPathImpls {
			if !contains(impl.lives, life) {
				continue
			}
			name := tokenName(impl.name, life)
			roll := r.get(r.tokenpath, name, "rollovers")
			n = roll.n
			label := implLabels[impl.name]
			if impl.name == "raw" {
				label = "raw (a token that never expires: the floor)"
			}
			fmt.Fprintf(&b, "| %d s | %s | %s | %s | %s |", life, label, span(roll), span(r.get(r.tokenpath, name, "token-requests")), medSpan(r.get(r.tokenpath, name, "over-100ms")))
			for _, unit := range []string{"p50-ms", "p99-ms", "p99.9-ms", "p99.99-ms", "max-ms"} {
				s := r.get(r.tokenpath, name, unit)
				fmt.Fprintf(&b, " %s %s |", ms(s.center), s.pct())
			}
			req := r.get(r.tokenpath, name, "requests")
			fmt.Fprintf(&b, " %s |\n", num(math.Round(req.center)))
		}
	}
	fmt.Fprintf(&b, "\n`BenchmarkTokenPath`, %d interleaved rounds of %s each: rollovers, token requests and requests over 100 ms\n", n, tokenRunLength(r.envValue("rounds")))
	b.WriteString("as the range over the rounds (over 100 ms: the median, then the range); latencies as the median ± benchstat's\n")
	b.WriteString("95% confidence interval.\n")
	return b.String()
}

func tokenRunLength(rounds string) string {
	// "... token-path rounds of 24 s"
	if i := strings.LastIndex(rounds, "rounds of "); i >= 0 {
		return strings.TrimSpace(rounds[i+len("rounds of "):])
	}
	return "?"
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (r *report) stormSection() string {
	var b strings.Builder
	b.WriteString("| run | contender | 401s served | token requests | successes | failures |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	n := 0
	for _, impl := range stormImpls {
		name := "Concurrent401s/impl=" + impl
		s := r.get(r.storm, name, "401s")
		n = s.n
		fmt.Fprintf(&b, "| %d requests, one revoked token | %s | %s | %s | %s | %s |\n", stormSize, implLabels[impl], span(s),
			span(r.get(r.storm, name, "token-requests")), span(r.get(r.storm, name, "successes")), "-")
	}
	for _, impl := range stormImpls {
		name := "ColdCallers/impl=" + impl
		fmt.Fprintf(&b, "| 1000 cold callers | %s | - | %s | - | %s |\n", implLabels[impl],
			span(r.get(r.storm, name, "token-requests")), span(r.get(r.storm, name, "failures")))
	}
	fmt.Fprintf(&b, "\n`BenchmarkConcurrent401s` and `BenchmarkColdCallers`, %d rounds; a range would show if the rounds differed.\n", n)
	return b.String()
}

// telemetryImpls are BenchmarkTelemetryCost's settings, in run.sh's order.
var telemetryImpls = []string{"noop", "sdk-traces", "sdk-traces-and-metrics"}

var telemetryLabels = map[string]string{
	"noop":                   "no SDK (the global no-op providers)",
	"sdk-traces":             "SDK tracer, every span recorded",
	"sdk-traces-and-metrics": "SDK tracer and meter",
}

// telemetrySection: what a typed call costs without an OpenTelemetry SDK
// and with one, against the same call with no SDK.
func (r *report) telemetrySection() string {
	var b strings.Builder
	b.WriteString("| telemetry | allocs/op | B/op | time/op | time against no SDK (paired) |\n")
	b.WriteString("|---|---|---|---|---|\n")
	n := 0
	for _, t := range telemetryImpls {
		name := "TelemetryCost/telemetry=" + t
		a := r.get(r.telemetry, name, "allocs/op")
		n = a.n
		ratio := "1.00x"
		if t != "noop" {
			_, ratio = r.ratio(r.telemetry, name, "TelemetryCost/telemetry=noop", "ns/op")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", telemetryLabels[t], num(a.center),
			bytesStr(r.get(r.telemetry, name, "B/op").center), dur(r.get(r.telemetry, name, "ns/op").center), ratio)
	}
	fmt.Fprintf(&b, "\n`BenchmarkTelemetryCost` (stennapi.ListCompanies in process, body `stenn`), medians of %d rounds.\n", n)
	return b.String()
}

// claims: one sentence per claim, each figure from the outputs.
func (r *report) claims() string {
	var b strings.Builder
	a := func(impl, client string) float64 {
		return r.get(r.peers, remote(impl, client, "stenn"), "allocs/op").center
	}
	by := func(impl, client string) float64 { return r.get(r.peers, remote(impl, client, "stenn"), "B/op").center }

	ck, floor, raw := a("complykit", "timeout"), a("rawpool", "timeout"), a("raw", "timeout")
	fmt.Fprintf(&b, "- **complykit's typed call makes %s allocations over the best possible raw client** (the pooled floor) and %s over plain raw, client only with a 30 s Timeout client (%s and %s without the Timeout); it allocates %s bytes against the floor and %s against plain raw.\n",
		num(ck-floor), signed(ck-raw), signed(a("complykit", "bare")-a("rawpool", "bare")), signed(a("complykit", "bare")-a("raw", "bare")),
		pctDelta(by("complykit", "timeout"), by("rawpool", "timeout")), pctDelta(by("complykit", "timeout"), by("raw", "timeout")))
	own := r.get(r.peers, remote("complykit", "timeout", "plain"), "allocs/op").center - r.get(r.peers, remote("rawpool", "timeout", "plain"), "allocs/op").center
	fmt.Fprintf(&b, "- complykit's auth path alone (its `Doer`: token cache, origin check, retry policy, User-Agent) costs %s allocations over the floor, measured on your own type with the floor's decode.\n", signed(own))
	fmt.Fprintf(&b, "- x/oauth2 makes %s allocations over raw used as its docs suggest (a client without Timeout), and %s with a 30 s Timeout client, which `oauth2.NewClient` copies onto a transport net/http does not know: a goroutine and a timer per request.\n",
		signed(a("xoauth2", "bare")-a("raw", "bare")), signed(a("xoauth2", "timeout")-a("raw", "timeout")))
	fmt.Fprintf(&b, "- oapi-codegen's `ClientWithResponses` makes %s allocations over raw.\n", signed(a("oapicodegen", "timeout")-a("raw", "timeout")))

	s, s2 := r.altRatio("complykit", "rawpool"), r.altRatio("complykit", "raw")
	fmt.Fprintf(&b, "- Without a network, complykit's call takes %.2fx the floor's time (%s) and %.2fx plain raw's (%s), the contenders taking turns in one process.\n",
		s.center, interval(s), s2.center, interval(s2))

	st := r.get(r.peers, inProcess("raw", "stenn", "serial"), "allocs/op").center
	pl := r.get(r.peers, inProcess("raw", "plain", "serial"), "allocs/op").center
	fmt.Fprintf(&b, "- The generated model costs %s allocations per company more than a plain struct of the same JSON (one per optional field present: every one is a pointer); for a client that reads the body whole, that is most of what a call allocates.\n", num((st-pl)/peerCompanies))

	big := sizes[len(sizes)-1]
	ckB := r.get(r.sizes, sizeName("complykit", big, "chunked"), "B/op").center
	rawB := r.get(r.sizes, sizeName("raw", big, "chunked"), "B/op").center
	flB := r.get(r.sizes, sizeName("rawpool", big, "chunked"), "B/op").center
	ckA := r.get(r.sizes, sizeName("complykit", big, "chunked"), "allocs/op").center
	rawA := r.get(r.sizes, sizeName("raw", big, "chunked"), "allocs/op").center
	fmt.Fprintf(&b, "- At %s companies (%s, chunked), complykit allocates %s per call, plain raw %s (%s) and the pooled floor %s; it makes %s allocations more than raw, a fixed cost of the element-by-element decode (see the size table).\n",
		num(float64(big)), bytesStr(r.get(r.sizes, sizeName("raw", big, "chunked"), "body-B").center), bytesStr(ckB), bytesStr(rawB), pctDelta(ckB, rawB), bytesStr(flB), num(ckA-rawA))

	for _, life := range []int{3, 12} {
		ckR := r.get(r.tokenpath, tokenName("complykit", life), "rollovers")
		xoR := r.get(r.tokenpath, tokenName("xoauth2", life), "rollovers")
		ckS := r.get(r.tokenpath, tokenName("complykit", life), "over-100ms")
		xoS := r.get(r.tokenpath, tokenName("xoauth2", life), "over-100ms")
		fmt.Fprintf(&b, "- With %d s tokens, complykit and x/oauth2 did the same work (%s and %s rollovers per run). Requests over 100 ms, median of the rounds: complykit %s, x/oauth2 %s (every worker waits for the token endpoint at each rollover)",
			life, span(ckR), span(xoR), num(ckS.center), num(xoS.center))
		if round, worst := r.worstRound(life); worst > 0 {
			fmt.Fprintf(&b, "; in the round where the machine stalled most (raw, with no token path, had %s), complykit had %s and x/oauth2 %s",
				num(worst), num(r.roundValue("complykit", life, round)), num(r.roundValue("xoauth2", life, round)))
		}
		b.WriteString(".\n")
	}
	fmt.Fprintf(&b, "- A real storm of %d concurrent 401s on one token: complykit made %s token request and %s calls succeeded; x/oauth2, which does not handle 401s, %s and %s.\n",
		stormSize, span(r.get(r.storm, "Concurrent401s/impl=complykit", "token-requests")), span(r.get(r.storm, "Concurrent401s/impl=complykit", "successes")),
		span(r.get(r.storm, "Concurrent401s/impl=xoauth2", "token-requests")), span(r.get(r.storm, "Concurrent401s/impl=xoauth2", "successes")))
	return b.String()
}

// worstRound is the round in which raw, with no token path, had the most
// requests over 100 ms, and that count: the machine's worst moment.
func (r *report) worstRound(life int) (int, float64) {
	raws := r.raw(r.tokenpath, tokenName("raw", life), "over-100ms")
	worst := 0
	for i, v := range raws {
		if v > raws[worst] {
			worst = i
		}
	}
	if len(raws) == 0 {
		return -1, 0
	}
	return worst, raws[worst]
}

func (r *report) roundValue(impl string, life, round int) float64 {
	xs := r.raw(r.tokenpath, tokenName(impl, life), "over-100ms")
	if round < 0 || round >= len(xs) {
		return math.NaN()
	}
	return xs[round]
}

func (r *report) readmeTable() string {
	var b strings.Builder
	// row writes one line of the table: label, then each peer's cell,
	// complykit's in bold.
	row := func(label string, cell func(impl string) string) {
		b.WriteString("\n| " + label + " |")
		for _, impl := range peerImpls {
			c := cell(impl)
			if impl == "complykit" {
				c = "**" + c + "**"
			}
			b.WriteString(" " + c + " |")
		}
	}
	allocs := func(client string) func(string) string {
		return func(impl string) string {
			return num(r.get(r.peers, remote(impl, client, "stenn"), "allocs/op").center)
		}
	}
	b.WriteString("| | raw net/http | raw, pooled buffer (the floor) | x/oauth2 | oapi-codegen | complykit (stennapi, everything included) |\n")
	b.WriteString("|---|---|---|---|---|---|")
	row("allocs per call, client only, 30 s Timeout client", allocs("timeout"))
	row("the same, no client Timeout", allocs("bare"))
	row("bytes per call, client only", func(impl string) string {
		return bytesStr(r.get(r.peers, remote(impl, "timeout", "stenn"), "B/op").center)
	})
	row("client time, no network (serial), against the floor", func(impl string) string {
		return fmt.Sprintf("%.2fx", r.altRatio(impl, "rawpool").center)
	})
	big := sizes[len(sizes)-1]
	row("bytes per call, "+num(float64(big))+" companies, chunked", func(impl string) string {
		switch impl {
		case "raw", "rawpool", "complykit":
			return bytesStr(r.get(r.sizes, sizeName(impl, big, "chunked"), "B/op").center)
		}
		return "-"
	})
	for _, life := range []int{3, 12} {
		row(fmt.Sprintf("calls over 100 ms per %s run, median (range where the runs differ), and rollovers: 32 workers, %d s tokens, 200 ms token endpoint", tokenRunLength(r.envValue("rounds")), life), func(impl string) string {
			switch impl {
			case "raw", "xoauth2", "complykit":
				name := tokenName(impl, life)
				return fmt.Sprintf("%s, %s rollovers", medSpan(r.get(r.tokenpath, name, "over-100ms")), span(r.get(r.tokenpath, name, "rollovers")))
			}
			return "-"
		})
	}
	b.WriteString("\n")
	return b.String()
}

// interval is the 95% interval of a ratio, in words.
func interval(s summary) string {
	if math.IsInf(s.lo, 0) || math.IsInf(s.hi, 0) {
		return "too few rounds for a 95% interval"
	}
	return fmt.Sprintf("95%% interval %.2f-%.2f", s.lo, s.hi)
}

// TestRunScriptContenders keeps bench/run.sh's lists of contenders, which
// decide what it runs and in which order, equal to the benchmarks' own.
func TestRunScriptContenders(t *testing.T) {
	script, err := os.ReadFile("run.sh")
	if err != nil {
		t.Fatal(err)
	}
	var tp []string
	for _, impl := range tokenPathImpls {
		tp = append(tp, impl.name)
	}
	var peers []string
	for _, c := range contenders {
		peers = append(peers, c.name)
	}
	for name, want := range map[string][]string{"PEERS": peers, "SIZES": sizeImpls, "TOKENPATH": tp, "STORM": stormImpls, "TELEMETRY": telemetryImpls} {
		m := regexp.MustCompile(`(?m)^` + name + `=\(([^)]*)\)$`).FindSubmatch(script)
		if m == nil {
			t.Errorf("run.sh sets no %s", name)
			continue
		}
		if got := strings.Fields(string(m[1])); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("run.sh: %s=(%s); want (%s), as the benchmarks have them", name, strings.Join(got, " "), strings.Join(want, " "))
		}
	}
}
