#!/usr/bin/env bash
# Builds the local Kubernetes control plane that the tests start
# (internal/testcluster) into a git-ignored cache folder:
#
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
#   kwok-stages.yaml   kwok's own node and pod stage files joined with ---
#
# The versions are the ones pinned by the tools module in hack/tools. A cold
# build takes about 8 minutes on 2 cores; `make cluster-bins` skips it while the
# outputs are newer than hack/tools/go.mod and go.sum.
#
# Usage: hack/cluster-bins.sh [OUT_DIR]   (default: .cache/cluster-bins)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/.cache/cluster-bins}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
tools="$root/hack/tools"
go="${GO:-go}"

export GOWORK=off CGO_ENABLED=0
cd "$tools"

start=$(date +%s)
modver() { "$go" list -m -f '{{.Version}}' "$1"; }
kube_version="$(modver k8s.io/kubernetes)"   # v1.36.3
kwok_version="$(modver sigs.k8s.io/kwok)"     # v0.8.0
etcd_version="$(modver go.etcd.io/etcd/server/v3)"
major="${kube_version#v}"; major="${major%%.*}"
minor="${kube_version#v*.}"; minor="${minor%%.*}"

# Without these the components report version v0.0.0-master, which clients and
# kwok read from /version.
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

echo "==> building kube-apiserver, kube-controller-manager, kube-scheduler $kube_version into $out"
"$go" build -trimpath -ldflags "$kube_ldflags" -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler

echo "==> building etcd $etcd_version"
"$go" build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3

echo "==> building kwok $kwok_version"
"$go" build -trimpath \
  -ldflags "$kube_ldflags -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube_version#v}" \
  -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok

echo "==> writing kwok-stages.yaml"
kwok_dir="$("$go" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
stages=(
  node/fast/node-initialize.yaml
  node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml
  pod/fast/pod-complete.yaml
  pod/fast/pod-delete.yaml
)
{
  echo "# kwok $kwok_version stage files (kustomize/stage/...), joined by hack/cluster-bins.sh."
  first=1
  for s in "${stages[@]}"; do
    [ "$first" = 1 ] || echo "---"
    first=0
    # Drop a leading document marker so the join yields one document per stage.
    sed '1{/^---[[:space:]]*$/d}' "$kwok_dir/kustomize/stage/$s"
  done
} > "$out/kwok-stages.yaml.tmp"
mv "$out/kwok-stages.yaml.tmp" "$out/kwok-stages.yaml"

# go build leaves an up-to-date binary untouched; make compares modification
# times with hack/tools/go.mod, so mark every output as fresh.
touch "$out/etcd" "$out/kube-apiserver" "$out/kube-controller-manager" \
  "$out/kube-scheduler" "$out/kwok" "$out/kwok-stages.yaml"
echo "==> cluster binaries ready in $out ($(( $(date +%s) - start ))s)"
