#!/usr/bin/env bash
# Generates large nodes as snapshot directories and measures `node-doctor check` on each: wall
# time and peak RSS (GNU time's %e and %M), at two sizes so growth is visible. Prints a Markdown
# table for the "Scale" section of docs/benchmarks.md.
#
# Usage: benches/scale.sh [BINARY]   (default target/release/node-doctor, built if missing)
# Scenarios, each on top of the kubeadm-real fixture:
#   certs      N registry folders in /etc/containerd/certs.d, each with a ca.crt (N certificates)
#   registries N registry folders in /etc/containerd/certs.d, each with hosts.toml and ca.crt
#   pod-logs   N kube-proxy pod log folders in /var/log/pods, each with a sparse 100 MB 0.log
#   journal    a kubelet journal of N lines in commands/journal/kubelet.log
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
binary=${1:-$top/target/release/node-doctor}
if [ ! -x "$binary" ]; then
    cargo build --release --quiet --manifest-path "$top/Cargo.toml"
fi
work=$(mktemp -d /tmp/node-doctor-scale.XXXXXX)
trap 'rm -rf "$work"' EXIT

base() {
    local dir=$1
    cp -a "$top/tests/fixtures/kubeadm-real" "$dir"
    rm -rf "$dir/expected"
    mkdir -p "$dir/rootfs/etc/containerd"
    # config_path makes containerd, and so the registry-ca check, read certs.d.
    cat >> "$dir/rootfs/etc/containerd/config.toml" <<'TOML'

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
TOML
}

make_certs() {
    local dir=$1 count=$2 with_hosts=$3
    local ca="$top/tests/fixtures/kubeadm-real/rootfs/etc/kubernetes/pki/ca.crt"
    for i in $(seq 1 "$count"); do
        local folder="$dir/rootfs/etc/containerd/certs.d/registry-$i.example.test:5000"
        mkdir -p "$folder"
        cp "$ca" "$folder/ca.crt"
        if [ "$with_hosts" = yes ]; then
            printf 'server = "https://registry-%s.example.test:5000"\n\n[host."https://registry-%s.example.test:5000"]\n  ca = "ca.crt"\n' "$i" "$i" > "$folder/hosts.toml"
        fi
    done
}

make_pod_logs() {
    local dir=$1 count=$2
    for i in $(seq 1 "$count"); do
        local folder="$dir/rootfs/var/log/pods/kube-system_kube-proxy-${i}_uid-${i}/kube-proxy"
        mkdir -p "$folder"
        truncate -s 100M "$folder/0.log"
        printf '2026-12-04T10:00:00.000000000Z stderr F I1204 10:00:00.000000       1 server.go:1 "Successfully retrieved node IP(s)" IPs=["10.0.0.%s"]\n' $((i % 250)) >> "$folder/0.log"
    done
}

make_journal() {
    local dir=$1 count=$2
    mkdir -p "$dir/commands/journal"
    python3 - "$dir/commands/journal/kubelet.log" "$count" <<'PY'
import sys
path, count = sys.argv[1], int(sys.argv[2])
with open(path, "w") as out:
    for i in range(count):
        out.write(f"2026-12-04T09:{i // 6000 % 60:02d}:{i // 100 % 60:02d}+0000 node-1 kubelet[812]: I1204 09:00:00.{i:06d}  812 kubelet.go:2400] \"SyncLoop (PLEG): event for pod\" pod=\"kube-system/pod-{i}\"\n")
PY
}

measure() {
    local dir=$1
    # Three runs; the fastest time and the largest peak RSS are kept.
    local best="" peak=0
    for _ in 1 2 3; do
        /usr/bin/time -o "$work/time.txt" -f "%e %M" \
            "$binary" check --offline -o json --snapshot "$dir" > /dev/null 2>&1 || true
        local out seconds kib
        out=$(tail -1 "$work/time.txt")
        seconds=${out% *}
        kib=${out#* }
        if [ -z "$best" ] || awk "BEGIN{exit !($seconds < $best)}"; then best=$seconds; fi
        if [ "$kib" -gt "$peak" ]; then peak=$kib; fi
    done
    echo "$best $peak"
}

echo "| scenario | size | wall time (s) | peak RSS (MiB) |"
echo "|---|---|---|---|"
baseline="$work/baseline"; base "$baseline"
read -r seconds kib < <(measure "$baseline")
printf '| kubeadm-real alone | - | %s | %.1f |\n' "$seconds" "$(echo "$kib / 1024" | bc -l)"

run() {
    local name=$1 size=$2 generator=$3
    local dir="$work/$name-$size"
    base "$dir"
    "$generator" "$dir" "$size" "${@:4}"
    read -r seconds kib < <(measure "$dir")
    printf '| %s | %s | %s | %.1f |\n' "$name" "$size" "$seconds" "$(echo "$kib / 1024" | bc -l)"
    rm -rf "$dir"
}

scenarios=${SCENARIOS:-certs registries pod-logs journal}
run_scenario() {
    case $1 in
    certs) run certs 100 make_certs no; run certs 1000 make_certs no ;;
    registries) run registries 1000 make_certs yes; run registries 10000 make_certs yes ;;
    pod-logs) run pod-logs 500 make_pod_logs; run pod-logs 5000 make_pod_logs ;;
    journal) run journal 10000 make_journal; run journal 100000 make_journal ;;
    esac
}
for scenario in $scenarios; do
    run_scenario "$scenario"
done
