#!/usr/bin/env bash
# Benchmark `cairn render` against `helm template`, side by side in one run, on
# N generated adapters (default 1000) and the embedded chart charts/adapter.
#
# What is measured:
#   cairn  `cairn render REPO --output json`: one process, cold, that validates
#          the repository and renders all N releases in process. Median wall
#          time of RUNS runs (hyperfine, or a loop without it).
#   helm   `helm template NAME charts/adapter --namespace NS -f VALUES`, one
#          process per release, one release at a time, for all N releases:
#          what Argo CD's repo server does. VALUES are the values cairn
#          rendered that release with (from cairn's JSON output). Total wall
#          time of the whole loop (one pass), and the median per release.
#   RSS    peak resident set size of one `cairn render` run and of one
#          `helm template` call (GNU time).
# helm is v3 at the version in go.mod, built from its Go module (bench/tools).
# Both sides are pinned to 2 CPUs when the machine has more.
#
# Checks (exit 1 if one fails):
#   - identical objects: for every release, cairn's objects (the yaml of each,
#     concatenated in order) equal helm template's output without its "---"
#     and "# Source:" lines; a release whose documents only come in another
#     order is compared sorted by kind and name, and counted as reordered;
#   - throughput: cairn at least 50x helm template's (N / total helm time);
#   - wall time: cairn renders 1000 adapters in under 1 s (checked for N=1000).
#
# Usage: bash bench/render.sh [N]
# Environment:
#   CAIRN=/path/to/cairn  benchmark this binary instead of building ./cmd/cairn
#   RUNS=10               timed runs of cairn render
#   KEEP=1                keep the generated repository and all outputs
set -euo pipefail

N=${1:-1000}
RUNS=${RUNS:-10}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/render.sh [N]" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }
export LC_ALL=C # "." in $EPOCHREALTIME and in awk's numbers
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART=$ROOT/charts/adapter
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

ensure /usr/bin/time time || { echo "need GNU time at /usr/bin/time" >&2; exit 1; }
ensure hyperfine hyperfine || echo "== hyperfine unavailable: timing with a loop"

echo "== building into $BIN"
HELM_VERSION=$(cd "$ROOT" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
TOOLS_HELM=$(cd "$ROOT/bench/tools" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
[[ $HELM_VERSION == "$TOOLS_HELM" ]] || {
  echo "go.mod has helm $HELM_VERSION but bench/tools has $TOOLS_HELM: run" >&2
  echo "  (cd bench/tools && go get -tool helm.sh/helm/v3/cmd/helm@$HELM_VERSION)" >&2
  exit 1
}
(cd "$ROOT/bench/tools" &&
  go build -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    -o "$BIN/helm" helm.sh/helm/v3/cmd/helm &&
  go build -o "$BIN/cairn-rendercheck" ./rendercheck)
(cd "$ROOT/bench/gen" && go build -o "$BIN/cairn-bench-gen" .)
if [[ -z ${CAIRN:-} ]]; then
  (cd "$ROOT" && go build -o "$BIN/cairn" ./cmd/cairn)
  CAIRN=$BIN/cairn
fi
HELM=$BIN/helm
CHECK=$BIN/cairn-rendercheck

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
if [[ ${KEEP:-} == 1 ]]; then echo "== keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
# A clean helm: no plugins, repositories or registry logins from this machine.
export HELM_CONFIG_HOME=$WORK/helm-home/config HELM_CACHE_HOME=$WORK/helm-home/cache \
  HELM_DATA_HOME=$WORK/helm-home/data

echo "== generating $N adapters"
# -yaml and -schema-out are the validate benchmark's inputs; unused here.
"$BIN/cairn-bench-gen" -n "$N" -schema "$ROOT/schema" \
  -repo "$WORK/repo" -yaml "$WORK/unused/yaml" -schema-out "$WORK/unused/schemas" | sed -n 1p

# Run on 2 cores, as the floor says: pin this shell (and so every command it
# starts from here on) if this machine has more.
PINNED=""
if (($(nproc) > 2)) && command -v taskset >/dev/null; then
  taskset -p -c 0,1 $$ >/dev/null && PINNED=", pinned to CPUs 0-1"
fi
echo "== $(nproc) cores$PINNED; $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
echo "== helm $("$HELM" version --short) (go.mod: $HELM_VERSION), chart $(sed -n 's/^version: //p' "$CHART/Chart.yaml")"

echo "== cairn render: $N releases in one process"
"$CAIRN" render "$WORK/repo" --output json >"$WORK/out.json" 2>"$WORK/cairn.err" ||
  { cat "$WORK/cairn.err"; echo "cairn render failed" >&2; exit 1; }
mkdir -p "$WORK/helm"
"$CHECK" split "$WORK/out.json" "$WORK" >"$WORK/releases.tsv"
RELEASES=$(wc -l <"$WORK/releases.tsv")
((RELEASES == N)) || { echo "cairn rendered $RELEASES releases, not $N" >&2; exit 1; }

CAIRN_CMD="$(printf '%q ' "$CAIRN" render "$WORK/repo" --output json) >$(printf '%q' "$WORK/run.json")"
if command -v hyperfine >/dev/null; then
  hyperfine --shell=bash --warmup 1 --runs "$RUNS" --export-csv "$WORK/hf.csv" \
    -n "cairn render ($N releases)" "$CAIRN_CMD"
  CAIRN_MED=$(awk -F, 'NR == 2 { print $4 }' "$WORK/hf.csv")
  CAIRN_MIN=$(awk -F, 'NR == 2 { print $7 }' "$WORK/hf.csv")
else
  bash -c "$CAIRN_CMD" # warm-up
  for _ in $(seq "$RUNS"); do
    t0=$EPOCHREALTIME
    bash -c "$CAIRN_CMD"
    t1=$EPOCHREALTIME
    echo "$t0 $t1"
  done | awk '{ print $2 - $1 }' | sort -g >"$WORK/cairn.times"
  CAIRN_MED=$(awk '{ t[NR] = $1 } END { printf "%.6f", (t[int((NR + 1) / 2)] + t[int(NR / 2) + 1]) / 2 }' "$WORK/cairn.times")
  CAIRN_MIN=$(head -n 1 "$WORK/cairn.times")
  echo "cairn render: median $CAIRN_MED s, min $CAIRN_MIN s over $RUNS runs"
fi
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'; }
CAIRN_RSS=$(rss "$CAIRN" render "$WORK/repo" --output json)

echo "== helm template: $N releases, one process each, one at a time"
# Per call: start and end time; the loop's own total is timed around it.
t_start=$EPOCHREALTIME
while IFS=$'\t' read -r stem name ns; do
  t0=$EPOCHREALTIME
  "$HELM" template "$name" "$CHART" --namespace "$ns" -f "$WORK/values/$stem.json" \
    >"$WORK/helm/$stem.yaml" 2>"$WORK/helm.err" ||
    { cat "$WORK/helm.err"; echo "helm template failed for $ns/$name" >&2; exit 1; }
  t1=$EPOCHREALTIME
  echo "$t0 $t1" >>"$WORK/helm.times"
done <"$WORK/releases.tsv"
t_end=$EPOCHREALTIME
HELM_TOTAL=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.6f", b - a }')
HELM_PER=$(awk '{ print $2 - $1 }' "$WORK/helm.times" | sort -g |
  awk '{ t[NR] = $1 } END { printf "%.6f", (t[int((NR + 1) / 2)] + t[int(NR / 2) + 1]) / 2 }')
IFS=$'\t' read -r stem name ns <"$WORK/releases.tsv"
HELM_RSS=$(rss "$HELM" template "$name" "$CHART" --namespace "$ns" -f "$WORK/values/$stem.json")
echo "helm template: $HELM_TOTAL s in all, median $HELM_PER s per release"

echo "== checking that both rendered the same objects, byte for byte"
SAME=1
"$CHECK" compare "$WORK/out.json" "$WORK" >"$WORK/compare.out" || SAME=0
cat "$WORK/compare.out"
if ((SAME == 0)); then
  echo "first difference (- cairn, + helm template without its --- and # Source: lines):"
  diff -u --label cairn --label "helm template" "$WORK/mismatch.cairn.yaml" "$WORK/mismatch.helm.yaml" |
    head -n 80 || true
fi
OBJECTS=$(sed -n 's/.*objects: \([0-9]*\);.*/\1/p' "$WORK/compare.out")

echo
awk -v n="$N" -v runs="$RUNS" -v objects="${OBJECTS:-0}" -v same="$SAME" \
  -v cmed="$CAIRN_MED" -v cmin="$CAIRN_MIN" -v crss="$CAIRN_RSS" \
  -v htot="$HELM_TOTAL" -v hper="$HELM_PER" -v hrss="$HELM_RSS" 'BEGIN {
    printf "%-42s %10s %12s %12s %10s\n", "", "wall s", "s/release", "releases/s", "peak RSS"
    printf "%-42s %10.3f %12.6f %12.0f %6.1f MiB\n", "cairn render, " n " in one process (median)", cmed, cmed / n, n / cmed, crss / 1024
    printf "%-42s %10.3f %12.6f %12.1f %6.1f MiB\n", "helm template, one process per release", htot, htot / n, n / htot, hrss / 1024
    printf "  (cairn min %.3f s over %d runs; helm median per call %.3f s; %d objects)\n", cmin, runs, hper, objects
    ratio = htot / cmed
    printf "\ncairn throughput / helm template: %.1fx (floor 50x)\n", ratio
    fail = ratio < 50
    if (n == 1000) {
      printf "cairn wall time for 1000 adapters: %.3f s median (floor 1 s)\n", cmed
      fail = fail || cmed >= 1
    } else printf "wall-time floor is defined for N=1000; not checked for N=%d\n", n
    if (!same) { print "objects: cairn and helm template differ (see above)"; fail = 1 }
    else if (objects == 0) { print "objects: none rendered, nothing compared (does charts/adapter/templates hold templates?)"; fail = 1 }
    else print "objects: byte-identical"
    print(fail ? "FAIL" : "PASS")
    exit fail
  }'
