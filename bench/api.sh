#!/usr/bin/env bash
# Benchmark cairn's status API (issue 6): the adapter list of 1,000 adapters
# with authentication, RBAC, the IP allowlist and the access trail (audit
# level standard: a record per request) on, as cairn serve runs them. The
# server and the load tool are two processes (bench/api) on this machine's
# cores; the load tool keeps C connections busy for D.
#
# Runs: the first page (100 adapters, the default) with an API key and with
# a JWT (RS256, verified against a JWKS), and the whole list (limit=1000)
# with an API key.
#
# Floor: at least 5,000 requests/s for the adapter list with p99 under 25 ms.
#
# Usage: bash bench/api.sh      Environment: C=64 D=10s
set -euo pipefail
cd "$(dirname "$0")/.."
C=${C:-64}
D=${D:-10s}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/api" ./bench/api
"$work/api" serve -dir "$work" -n 1000 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do [ -s "$work/token" ] && break; sleep 0.1; done
url="http://$(cat "$work/addr")/api/v1/adapters"
echo "cairn API on $(nproc) cores, $C connections for $D each, load tool in a second process"
"$work/api" load -url "$url" -bearer "$work/key" -c "$C" -d "$D" -label "first page, API key"
"$work/api" load -url "$url" -bearer "$work/token" -c "$C" -d "$D" -label "first page, JWT"
"$work/api" load -url "$url?limit=1000" -bearer "$work/key" -c "$C" -d "$D" -label "1,000 adapters, API key"
kill -TERM "$server"; wait "$server" || true
grep -h "dropped" "$work/server.log" || true
