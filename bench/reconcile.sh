#!/usr/bin/env bash
# Benchmark the reconciler on the local control plane (internal/testcluster:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok), side
# by side with a bare sequential loop over Helm's install action, in one run
# on one fresh cluster. The program is bench/reconcile; see its doc comment.
#
# What is measured:
#   peer   N_PEER generated adapters (default 300) installed one after the
#          other with Helm's install action (OpenAPI validation off, no
#          wait), the embedded adapter chart and the values cairn renders;
#          then until every Deployment is Available.
#   cold   `cairn reconcile --once --wait 15m` (a subprocess) on N generated
#          adapters (default 1000), from no release to all installed and
#          healthy: wall time, and the subprocess's peak RSS.
#   warm   a reconciler in the bench process on the same repository: the
#          first pass (one List, nothing to apply), 20 passes with nothing
#          changed (requests counted), 20 one-adapter commits timed from the
#          call to Reconcile to its return with the release upgraded.
#
# Floors (N=1000): at least 20 releases/s installed and healthy; peak RSS
# under 200 MB; nothing changed: under 100 ms and no write; a one-adapter
# commit applied within 1 s (p50). Exits 1 if one is missed.
#
# Usage: bash bench/reconcile.sh
# Environment:
#   N=1000 N_PEER=300     adapters cairn applies; releases the peer installs
#   CAIRN=/path/to/cairn  benchmark this binary instead of building bin/cairn
#   CPUPROFILE=FILE       CPU profile of the in-process part (go tool pprof;
#                         samples labelled part=first|noop|commit|apply)
#   CAIRN_GODEBUG=gctrace=1  GODEBUG of the cairn subprocess (stderr kept in
#                         the working directory: use with KEEP=1)
#   CONTROLLERS=workload  kube-controller-manager runs only what Deployment
#                         health needs (deployment, replicaset, disruption,
#                         garbage collector, namespace, serviceaccount, node lifecycle);
#                         CONTROLLERS=all runs every controller
#   KEEP=1                keep the working directory (repositories, cluster log)
set -euo pipefail

N=${N:-1000}
N_PEER=${N_PEER:-300}
[[ $N =~ ^[1-9][0-9]*$ && $N_PEER =~ ^[1-9][0-9]*$ ]] ||
  { echo "N and N_PEER must be positive integers" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

echo "== building into $BIN (and bin/cairn)"
if [[ -z ${CAIRN:-} ]]; then
  make -s -C "$ROOT" build
  CAIRN=$ROOT/bin/cairn
fi
(cd "$ROOT/bench/gen" && go build -o "$BIN/cairn-bench-gen" .)
(cd "$ROOT" && go build -o "$BIN/cairn-bench-reconcile" ./bench/reconcile)
echo "== control plane binaries (make cluster-bins; about 8 minutes when cold)"
make -s -C "$ROOT" cluster-bins

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-reconcile-bench.XXXXXX")
if [[ ${KEEP:-} == 1 ]]; then echo "== keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi


# Run on 2 cores, as the floor says: pin this shell (and so everything it
# starts, the control plane included) if this machine has more.
PINNED=""
if (($(nproc) > 2)) && command -v taskset >/dev/null; then
  taskset -p -c 0,1 $$ >/dev/null && PINNED=", pinned to CPUs 0-1"
fi
echo "== $(nproc) cores$PINNED; $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1); $("$CAIRN" version 2>/dev/null | head -n 1 || true)"

cd "$ROOT" # testcluster finds .cache/cluster-bins from the working directory
"$BIN/cairn-bench-reconcile" -n "$N" -peer "$N_PEER" -gen "$BIN/cairn-bench-gen" -cairn "$CAIRN" \
  -schema "$ROOT/schema" -work "$WORK" ${CPUPROFILE:+-cpuprofile "$CPUPROFILE"} \
  ${CAIRN_GODEBUG:+-cairn-godebug "$CAIRN_GODEBUG"} -controllers "${CONTROLLERS:-workload}"
