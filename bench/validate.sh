#!/usr/bin/env bash
# Benchmark `cairn validate` against kubeconform, side by side in one run, on
# N generated Adapter manifests (default 10000) checked against the same schema.
#
# Floor (N=10000): cairn at least 3x kubeconform's best throughput, and under
# 0.5 s on 2 cores. Times are medians of RUNS runs. Exits 1 if a floor is missed.
#
# Usage: bash bench/validate.sh [N]
# Environment:
#   CAIRN=/path/to/cairn  benchmark this binary instead of building ./cmd/cairn
#   RUNS=10               timed runs per command
#   KEEP=1                keep the generated documents
set -euo pipefail

N=${1:-10000}
RUNS=${RUNS:-10}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/validate.sh [N]" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

ensure /usr/bin/time time || { echo "need GNU time at /usr/bin/time" >&2; exit 1; }
ensure hyperfine hyperfine || echo "== hyperfine unavailable: timing with a loop"

echo "== building into $BIN"
KC_VERSION=$(cd "$ROOT/bench/tools" && go list -m -f '{{.Version}}' github.com/yannh/kubeconform)
(cd "$ROOT/bench/tools" && go build -ldflags "-X main.version=$KC_VERSION" \
  -o "$BIN/kubeconform" github.com/yannh/kubeconform/cmd/kubeconform)
(cd "$ROOT/bench/gen" && go build -o "$BIN/cairn-bench-gen" .)
if [[ -z ${CAIRN:-} ]]; then
  (cd "$ROOT" && go build -o "$BIN/cairn" ./cmd/cairn)
  CAIRN=$BIN/cairn
fi
KC=$BIN/kubeconform
KC_N=$("$KC" -h 2>&1 | sed -n 's/.*goroutines.*(default \([0-9]*\)).*/\1/p')

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
if [[ ${KEEP:-} == 1 ]]; then echo "== keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi

echo "== generating $N adapters"
"$BIN/cairn-bench-gen" -n "$N" -schema "$ROOT/schema" \
  -repo "$WORK/repo" -yaml "$WORK/yaml" -schema-out "$WORK/schemas"
LOC="$WORK/schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"

echo "== checking that both tools accept every document and reject a bad one"
"$KC" -strict -summary -schema-location "$LOC" "$WORK/yaml" >"$WORK/kc.out" || true
tail -n 1 "$WORK/kc.out"
grep -q "Valid: $N, Invalid: 0, Errors: 0" "$WORK/kc.out" ||
  { head -n 20 "$WORK/kc.out"; echo "kubeconform rejected the generated documents" >&2; exit 1; }
"$CAIRN" validate "$WORK/repo" >"$WORK/cairn.out" 2>&1 ||
  { cat "$WORK/cairn.out"; echo "cairn validate rejected the generated repository" >&2; exit 1; }
mkdir -p "$WORK/bad/adapters"
cp "$WORK/repo/cairn.json" "$WORK/bad/"
sed '1s/{/{"bogus": true,/' "$WORK/repo/adapters/gen-00000.json" >"$WORK/bad/adapters/gen-00000.json"
{ cat "$WORK/yaml/gen-00000.yaml"; echo "bogus: true"; } >"$WORK/bad/gen-00000.yaml"
rc=0; "$KC" -strict -schema-location "$LOC" "$WORK/bad/gen-00000.yaml" >/dev/null || rc=$?
((rc == 1)) || { echo "kubeconform: exit $rc, not 1, on an unknown field" >&2; exit 1; }
rc=0; "$CAIRN" validate "$WORK/bad" >/dev/null 2>&1 || rc=$?
((rc == 1)) || { echo "cairn validate: exit $rc, not 1, on an unknown field" >&2; exit 1; }

# Run on 2 cores, as the floor says; pin if this machine has more.
PIN=()
if (($(nproc) > 2)); then PIN=(taskset -c 0,1); fi
echo "== $(nproc) cores${PIN:+, pinned to CPUs 0-1}; $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
echo "== kubeconform $KC_VERSION: $N YAML files, -strict, bundled draft 2020-12 schema"

q() { printf '%q ' "$@"; }
NAMES=(cairn "kubeconform -n $KC_N (default)" "kubeconform -n 2")
CMDS=("$(q "$CAIRN" validate "$WORK/repo")"
  "$(q "$KC" -strict -summary -schema-location "$LOC" "$WORK/yaml")"
  "$(q "$KC" -strict -summary -n 2 -schema-location "$LOC" "$WORK/yaml")")

# Median and minimum wall time per command, as CSV: name,median,min.
if command -v hyperfine >/dev/null; then
  args=()
  for i in "${!CMDS[@]}"; do args+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
  "${PIN[@]}" hyperfine --shell=bash --warmup 1 --runs "$RUNS" \
    --export-csv "$WORK/hf.csv" "${args[@]}"
  awk -F, 'NR > 1 { print $1 "," $4 "," $7 }' "$WORK/hf.csv" >"$WORK/times.csv"
else
  for i in "${!CMDS[@]}"; do
    "${PIN[@]}" bash -c "${CMDS[$i]}" >/dev/null # warm-up
    for _ in $(seq "$RUNS"); do
      start=$(date +%s%N)
      "${PIN[@]}" bash -c "${CMDS[$i]}" >/dev/null
      echo $(($(date +%s%N) - start))
    done | sort -n | awk -v name="${NAMES[$i]}" '{ t[NR] = $1 }
      END { printf "%s,%.6f,%.6f\n", name, (t[int((NR + 1) / 2)] + t[int(NR / 2) + 1]) / 2e9, t[1] / 1e9 }' >>"$WORK/times.csv"
  done
fi

# Peak RSS of one run of each command, in KiB.
for i in "${!CMDS[@]}"; do
  "${PIN[@]}" /usr/bin/time -v bash -c "${CMDS[$i]}" 2>&1 >/dev/null |
    sed -n 's/.*Maximum resident set size (kbytes): //p'
done >"$WORK/rss.txt"

echo
paste -d, "$WORK/times.csv" "$WORK/rss.txt" | awk -F, -v n="$N" '
  { name[NR] = $1; med[NR] = $2; min[NR] = $3; rss[NR] = $4 }
  END {
    printf "%-28s %9s %9s %12s %10s\n", "", "median s", "min s", "docs/s", "peak RSS"
    for (i = 1; i <= NR; i++)
      printf "%-28s %9.3f %9.3f %12.0f %7.1f MiB\n", name[i], med[i], min[i], n / med[i], rss[i] / 1024
    best = 2; for (i = 3; i <= NR; i++) if (med[i] < med[best]) best = i
    ratio = med[best] / med[1]
    printf "\ncairn throughput / best kubeconform (%s): %.2fx (floor 3x)\n", name[best], ratio
    fail = ratio < 3
    if (n == 10000) {
      printf "cairn wall time for 10000 documents: %.3f s median (floor 0.5 s)\n", med[1]
      fail = fail || med[1] >= 0.5
    } else printf "wall-time floor is defined for N=10000; not checked for N=%d\n", n
    print(fail ? "FAIL" : "PASS")
    exit fail
  }'
