#!/usr/bin/env bash
# Benchmark `cairn plan` between two revisions of an N-adapter repository
# (default 1000) that differ in one adapter, and, for the worst case, in
# cairn.json (which can change every release, so both revisions render whole).
#
# What is measured: the median wall time of RUNS runs (hyperfine) of
#   cairn plan --repo REPO --base HEAD~1 --head HEAD --output markdown
# on a real Git repository (git init, two commits), and its peak RSS.
#
# Floor (N=1000): under 2 s for the one-adapter change. Exits 1 if missed.
#
# Usage: bash bench/plan.sh [N]
# Environment: CAIRN=/path/to/cairn (default: build ./cmd/cairn), RUNS=10.
set -euo pipefail

N=${1:-1000}
RUNS=${RUNS:-10}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/plan.sh [N]" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
ensure hyperfine hyperfine || { echo "need hyperfine" >&2; exit 1; }
ensure /usr/bin/time time || { echo "need GNU time at /usr/bin/time" >&2; exit 1; }

echo "== building into $BIN"
(cd "$ROOT/bench/gen" && go build -o "$BIN/cairn-bench-gen" .)
if [[ -z ${CAIRN:-} ]]; then
  (cd "$ROOT" && go build -o "$BIN/cairn" ./cmd/cairn)
  CAIRN=$BIN/cairn
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-plan-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "== generating $N adapters and two revisions"
"$BIN/cairn-bench-gen" -n "$N" -schema "$ROOT/schema" -repo "$WORK/repo" -yaml "$WORK/yaml" -schema-out "$WORK/schemas" >/dev/null
git() { command git -C "$WORK/repo" -c user.name=bench -c user.email=bench@cairn.dev "$@"; }
git init -q -b main
git add -A
git commit -qm base
# one adapter changes: its replica count
files=("$WORK"/repo/adapters/*.json)
f=${files[0]}
sed -i '0,/"replicas": [0-9]*/s//"replicas": 7/' "$f"
grep -q '"replicas": 7' "$f" || sed -i '0,/"role": "\([a-z]*\)"/s//"role": "\1", "replicas": 7/' "$f"
git commit -qam "one adapter"
# cairn.json changes: a label every adapter inherits
sed -i 's/"name": "bench"/"name": "bench", "labels": {"team": "benchmarks"}/' "$WORK/repo/cairn.json"
git commit -qam "repository metadata"

# exit code 1 means "changes": anything else is a failure of the benchmark
plan() { echo "$CAIRN plan --repo $WORK/repo --base $1 --head $2 --output markdown >/dev/null; test \$? -eq 1"; }
for range in "HEAD~2 HEAD~1" "HEAD~1 HEAD"; do
  rc=0
  "$CAIRN" plan --repo "$WORK/repo" --base "${range% *}" --head "${range#* }" --output text >"$WORK/plan.txt" 2>&1 || rc=$?
  ((rc == 1)) || { cat "$WORK/plan.txt"; echo "cairn plan $range: exit $rc, want 1 (changes)" >&2; exit 1; }
  head -n 4 "$WORK/plan.txt"
done

hyperfine --shell=bash --warmup 1 --runs "$RUNS" --export-csv "$WORK/hf.csv" \
  -n "one adapter changed" "$(plan HEAD~2 HEAD~1)" \
  -n "cairn.json changed (every release re-rendered)" "$(plan HEAD~1 HEAD)"
one=$(awk -F, 'NR==2 {print $4}' "$WORK/hf.csv")
rss=$( { /usr/bin/time -f %M "$CAIRN" plan --repo "$WORK/repo" --base HEAD~2 --head HEAD~1 >/dev/null; } 2>&1 | tail -n 1 || true)
echo
printf "cairn plan, one adapter of %d changed: %.3f s median, peak RSS %.0f MiB (floor 2 s)\n" "$N" "$one" "$(echo "$rss / 1024" | bc -l)"
if ((N == 1000)) && awk -v t="$one" 'BEGIN {exit !(t >= 2)}'; then
  echo FAIL
  exit 1
fi
echo PASS
