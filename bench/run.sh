#!/usr/bin/env bash
# Regenerates every benchmark figure of docs/benchmarks.md and of the
# README's "Benchmarks and faults" table:
#
#   bench/run.sh
#
# It builds the test binary of bench/ once (go test -c), then runs the
# contenders interleaved: in each round every contender runs once, in its
# own process, one after the other (A B C D, A B C D, ...), so that drift on
# a shared machine spreads over all of them instead of landing on one; and
# once per round BenchmarkListCompaniesAlternating times the in-process
# contenders in turns of 32 calls within one process, for ratios that a busy
# machine cannot skew. The
# raw outputs go to docs/bench/*.txt (only if every run passed: the
# benchmarks assert their counts), benchstat's tables to
# docs/bench/*.benchstat.txt, and the markdown tables are generated from the
# raw outputs (go test ./bench -run '^TestBenchmarkDocs$' -update), so the
# docs cannot drift from them: TestBenchmarkDocs fails in the ordinary test
# run if they do.
#
# Settings (environment):
#   ROUNDS=10        rounds of the peer and size benchmarks
#   BENCHTIME=0.5s   -test.benchtime of each peer and size benchmark
#   TOKEN_ROUNDS=6   rounds of the token path (24 s per contender and token
#                    lifetime) and of the cold-callers and 401-storm runs;
#                    6 is the fewest samples benchstat gives a 95% interval
#   TOKEN_SECONDS=24 length of each token-path run
#   OUT=docs/bench   where the raw outputs and benchstat's tables go
#
# With the defaults it takes about 30 minutes on a 2-core machine, half of it
# the token path.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
BENCHTIME=${BENCHTIME:-0.5s}
TOKEN_ROUNDS=${TOKEN_ROUNDS:-6}
TOKEN_SECONDS=${TOKEN_SECONDS:-24}
OUT=${OUT:-docs/bench}
BENCHSTAT=(go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da)

# The contenders, in the order each round runs them.
PEERS=(raw rawpool xoauth2 oapicodegen complykit)
SIZES=(raw rawpool complykit)
TOKENPATH=(raw xoauth2 xoauth2-default complykit)
STORM=(xoauth2 complykit)
TELEMETRY=(noop sdk-traces sdk-traces-and-metrics)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s)

echo "== building the test binary of ./bench"
go test -c -o "$tmp/bench.test" ./bench

# run FILE BENCH-PATTERN BENCHTIME: one process, one sample of each
# benchmark the pattern selects, appended to FILE.
run() {
	local file=$1 pattern=$2 benchtime=$3
	if ! (cd bench && "$tmp/bench.test" -test.run '^$' -test.bench "$pattern" \
		-test.benchtime "$benchtime" -test.count 1 -test.benchmem) >>"$tmp/$file" 2>"$tmp/stderr"; then
		cat "$tmp/stderr" >&2
		tail -30 "$tmp/$file" >&2
		echo "bench/run.sh: $pattern failed; nothing was written to $OUT" >&2
		exit 1
	fi
}

{
	echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "go: $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown), $(getconf _NPROCESSORS_ONLN) cores"
	echo "x/oauth2: $(go list -m -f '{{.Version}}' golang.org/x/oauth2)"
	echo "oapi-codegen: $(go list -m -f '{{.Version}}' github.com/oapi-codegen/oapi-codegen/v2)"
	echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	echo "rounds: $ROUNDS peer and size rounds of $BENCHTIME, $TOKEN_ROUNDS token-path rounds of ${TOKEN_SECONDS} s"
} >"$tmp/env.txt"

for ((r = 1; r <= ROUNDS; r++)); do
	echo "== $(date +%T) peers and sizes, round $r of $ROUNDS"
	for impl in "${PEERS[@]}"; do
		run peers.txt "^BenchmarkListCompanies(InProcess|Remote)?\$/^impl=$impl\$" "$BENCHTIME"
	done
	# All the in-process contenders in one process, in turns of 32 calls.
	run alternating.txt '^BenchmarkListCompaniesAlternating$' "$BENCHTIME"
	for impl in "${SIZES[@]}"; do
		run sizes.txt "^BenchmarkListCompaniesSize\$/^impl=$impl\$" "$BENCHTIME"
	done
	for t in "${TELEMETRY[@]}"; do
		run telemetry.txt "^BenchmarkTelemetryCost\$/^telemetry=$t\$" "$BENCHTIME"
	done
done

export COMPLYKIT_TOKENPATH_SECONDS=$TOKEN_SECONDS
for ((r = 1; r <= TOKEN_ROUNDS; r++)); do
	echo "== $(date +%T) token path, round $r of $TOKEN_ROUNDS"
	for impl in "${TOKENPATH[@]}"; do
		run tokenpath.txt "^BenchmarkTokenPath\$/^impl=$impl\$" 1x
	done
	for impl in "${STORM[@]}"; do
		run storm.txt "^Benchmark(ColdCallers|Concurrent401s)\$/^impl=$impl\$" 1x
	done
done

echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)" >>"$tmp/env.txt"
echo "took: $(( ($(date +%s) - started + 30) / 60 )) min" >>"$tmp/env.txt"

mkdir -p "$OUT"
for f in env peers alternating sizes telemetry tokenpath storm; do
	cp "$tmp/$f.txt" "$OUT/$f.txt"
done
for f in peers sizes tokenpath storm; do
	"${BENCHSTAT[@]}" -col /impl "$OUT/$f.txt" >"$OUT/$f.benchstat.txt"
done
"${BENCHSTAT[@]}" "$OUT/alternating.txt" >"$OUT/alternating.benchstat.txt"
"${BENCHSTAT[@]}" -col /telemetry "$OUT/telemetry.txt" >"$OUT/telemetry.benchstat.txt"

if [ "$OUT" = docs/bench ]; then
	echo "== docs/benchmarks.md and README.md from the raw outputs"
	go test ./bench -run '^TestBenchmarkDocs$' -count 1 -update
fi

for f in peers alternating sizes telemetry tokenpath storm; do
	echo
	echo "== $OUT/$f.benchstat.txt"
	cat "$OUT/$f.benchstat.txt"
done
echo
cat "$OUT/env.txt"
