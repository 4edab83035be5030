#!/usr/bin/env bash
# Measures the footprint of `node-doctor agent` over RUNS runs on the kubeadm-real
# control-plane snapshot, one run a second: resident memory (VmRSS) after the first and the
# last run, CPU time (user + system, all threads) per run, and context switches of all
# threads during IDLE seconds without a run. Prints a Markdown table for docs/benchmarks.md.
#
# Scrapes of /metrics every 0.5 s, to see when a run completed, are counted in the CPU time.
#
# Usage: benches/agent.sh [RUNS] [IDLE]   (defaults 100 and 20)
set -euo pipefail

runs=${1:-100}
idle=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
snapshot="$top/tests/fixtures/kubeadm-real"
binary="$top/target/release/node-doctor"

cargo build --release --quiet --manifest-path "$top/Cargo.toml"

python3 - "$runs" "$idle" "$binary" "$snapshot" <<'PY'
import glob, json, os, re, signal, subprocess, sys, time, urllib.request

runs, idle, binary, snapshot = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ticks = os.sysconf("SC_CLK_TCK")

def start(interval):
    """Starts the agent and returns the process and its address from the first log line."""
    agent = subprocess.Popen(
        [binary, "agent", "--snapshot", snapshot, "--offline", "--config", "/dev/null",
         "--listen", "127.0.0.1:0", "--interval", interval, "--jitter", "0s",
         "--log-format", "json"],
        stderr=subprocess.PIPE, text=True)
    for line in agent.stderr:
        event = json.loads(line)
        if event.get("message") == "agent started":
            # Keep reading the log so the pipe never fills.
            import threading
            threading.Thread(target=lambda: [None for _ in agent.stderr], daemon=True).start()
            return agent, event["address"]
    raise SystemExit("the agent did not start")

def runs_done(address):
    try:
        text = urllib.request.urlopen(f"http://{address}/metrics", timeout=5).read().decode()
    except OSError:
        return 0
    match = re.search(r"^node_doctor_agent_runs_total (\d+)", text, re.M)
    return int(match.group(1)) if match else 0

def wait_runs(address, count):
    while runs_done(address) < count:
        time.sleep(0.5)

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))

def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks

def switches(pid):
    """Returns the context switches (voluntary + involuntary) of each thread, by thread id."""
    counts = {}
    for status_path in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(status_path) as status:
                text = status.read()
        except FileNotFoundError:
            continue
        counts[status_path] = sum(int(n) for n in re.findall(r"ctxt_switches:\s+(\d+)", text))
    return counts

agent, address = start("1s")
try:
    wait_runs(address, 1)
    rss_first = rss_kib(agent.pid)
    cpu_first = cpu_seconds(agent.pid)
    wait_runs(address, runs)
    rss_last = rss_kib(agent.pid)
    cpu_last = cpu_seconds(agent.pid)
finally:
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=10)

# Idle: a one-hour interval, measured after the first run has finished.
agent, address = start("1h")
try:
    wait_runs(address, 1)
    # tokio keeps an idle blocking-pool thread for 10 s; wait until it has exited.
    time.sleep(12)
    before = switches(agent.pid)
    time.sleep(idle)
    after = switches(agent.pid)
    threads = len(os.listdir(f"/proc/{agent.pid}/task"))
    rss_idle = rss_kib(agent.pid)
finally:
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=10)

cpu_per_run_ms = (cpu_last - cpu_first) / (runs - 1) * 1000
print(f"| Measure | Value |")
print(f"|---|---|")
print(f"| Resident memory after run 1 | {rss_first / 1024:.1f} MiB |")
print(f"| Resident memory after run {runs} | {rss_last / 1024:.1f} MiB |")
print(f"| CPU time per run (runs 2 to {runs}, user + system) | {cpu_per_run_ms:.1f} ms |")
idle_switches = sum(after[tid] - before.get(tid, 0) for tid in after)
print(f"| Context switches while idle, all threads | {idle_switches} in {idle} s |")
print(f"| Threads while idle | {threads} |")
print(f"| Resident memory while idle (1h interval, after run 1) | {rss_idle / 1024:.1f} MiB |")
PY
