#!/usr/bin/env bash
# Measures `node-doctor check` on the kubeadm-real snapshot: wall time per run and peak RSS,
# next to `openssl x509 -noout -enddate` run once per certificate of the same snapshot, and the
# size of the stripped release binary. Prints a Markdown table for docs/benchmarks.md.
#
# Usage: benches/check.sh [RUNS]   (default 200)
set -euo pipefail

runs=${1:-200}
top=$(cd "$(dirname "$0")/.." && pwd)
snapshot="$top/tests/fixtures/kubeadm-real"
binary="$top/target/release/node-doctor"

cargo build --release --quiet --manifest-path "$top/Cargo.toml"

python3 - "$runs" "$binary" "$snapshot" <<'PY'
import glob, os, statistics, subprocess, sys, time

runs, binary, snapshot = int(sys.argv[1]), sys.argv[2], sys.argv[3]
certs = sorted(glob.glob(f"{snapshot}/rootfs/etc/kubernetes/pki/**/*.crt", recursive=True))
certs.append(f"{snapshot}/rootfs/var/lib/kubelet/pki/kubelet-client-current.pem")

def peak_rss_kib(command):
    """Returns the peak RSS of one run, as GNU time's %M reports it."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    return int(result.stderr.strip().splitlines()[-1])

def measure(commands):
    """Runs the commands once per round; returns per-round wall times and the peak RSS (KiB)
    of the largest single process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for command in commands:
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    peak = max(peak_rss_kib(command) for command in commands for _ in range(3))
    return times, peak

def row(name, times, peak):
    ms = [t * 1000 for t in times]
    p95 = sorted(ms)[int(len(ms) * 0.95) - 1]
    print(f"| {name} | {statistics.median(ms):.2f} | {p95:.2f} | {peak / 1024:.1f} |")

check = [[binary, "check", "--snapshot", snapshot, "-o", "json"]]
certs_cmd = [[binary, "certs", "--snapshot", snapshot]]
openssl = [["openssl", "x509", "-noout", "-enddate", "-in", c] for c in certs]

print(f"runs per command: {runs}; certificates: {len(certs)}")
print()
print("| command | median ms | p95 ms | peak RSS MiB |")
print("|---|---|---|---|")
row("node-doctor check -o json", *measure(check))
row("node-doctor certs", *measure(certs_cmd))
row(f"openssl x509 -noout -enddate, {len(certs)} runs", *measure(openssl))
print()
print(f"release binary: {os.path.getsize(binary) / 1e6:.2f} MB (stripped by the release profile)")
PY

# Instruction counts do not depend on other load on the machine, unlike wall time.
if command -v valgrind >/dev/null; then
    out=$(mktemp -d)
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
        "$binary" check --snapshot "$snapshot" -o json >/dev/null 2>"$out/log" || true
    instructions=$(grep -o 'refs: *[0-9,]*' "$out/log" | tr -dc '0-9')
    echo "instructions for one check run (callgrind): $instructions"
    rm -rf "$out"
fi
