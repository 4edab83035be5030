#!/usr/bin/env bash
# Builds one seed folder per fuzz target from real files of the repository: the fixtures under
# tests/fixtures, examples/, systemd/, checks/, the checks files embedded in
# tests/declarative_checks.rs and the example in docs/declarative-checks.md.
#
# Usage: fuzz/seed-corpus.sh [OUT]   (default /tmp/fuzz-seeds; OUT/TARGET is replaced)
set -euo pipefail

out=${1:-/tmp/fuzz-seeds}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sources="tests/fixtures examples"
targets="pem kubeconfig kubelet_config static_pod systemd_unit hosts_toml containerd_config
  mountinfo pod_log ip_json snapshot_archive redact checks_yaml"

for target in $targets; do
  rm -rf "${out:?}/$target"
  mkdir -p "$out/$target"
done

# Copies files into OUT/TARGET, each named after its path so that equal names stay apart.
seed() {
  local target=$1
  shift
  for file in "$@"; do
    cp "$file" "$out/$target/$(echo "$file" | tr '/*' '__')"
  done
}

# Seeds TARGET with the fixture files that the find expression FIND-ARGS... matches. Some fixture
# folder names contain `*`, so the paths are read one by one instead of through word splitting.
seed_found() {
  local target=$1
  shift
  find $sources -type f \( "$@" \) -print0 | while IFS= read -r -d '' file; do
    seed "$target" "$file"
  done
}

seed_found pem -name '*.crt' -o -name '*.key' -o -name '*.pem' -o -name '*.pub'
seed_found kubeconfig -path '*etc/kubernetes/*.conf' -o -name kubeconfig -o -name 'kubelet.conf*'
seed_found kubelet_config -path '*var/lib/kubelet/config.yaml' -o -name kubeadm-config.yaml
seed_found static_pod -path '*etc/kubernetes/manifests/*'
seed_found systemd_unit -name '*.service' -o -path '*.service.d/*' -o -name '*.env' \
  -o -path '*etc/default/*' -o -path '*sysconfig/*'
seed systemd_unit systemd/*
seed_found hosts_toml -name '*.toml'
seed_found containerd_config -name '*.toml'
seed_found mountinfo -name mountinfo
seed_found ip_json -path '*commands/ip-*.json'
seed_found redact -name '*.key' -o -name 'kubelet-client-*.pem' -o -path '*etc/kubernetes/*.conf' \
  -o -name 'kubelet.conf*'
seed checks_yaml checks/*.yaml

# The pod_log target reads its first byte as the offset where the tail starts, so each seed is a
# zero byte followed by a log file.
find $sources -type f \( -path '*var/log/pods/*' -o -name '*-json.log' \) -print0 |
  while IFS= read -r -d '' file; do
    { printf '\0'; cat "$file"; } >"$out/pod_log/$(echo "$file" | tr '/*' '__')"
  done

python3 - "$out/checks_yaml" <<'PY'
import pathlib, re, sys

out = pathlib.Path(sys.argv[1])
tests = pathlib.Path("tests/declarative_checks.rs").read_text()
for match in re.finditer(r'const (\w+): &str = r#"(.*?)"#;', tests, re.S):
    (out / f"tests_{match.group(1)}.yaml").write_text(match.group(2))

# The docs' checks file is an indented code block, and blank lines inside it belong to it.
blocks, block = [], []
for line in pathlib.Path("docs/declarative-checks.md").read_text().split("\n") + ["end"]:
    if line.startswith("    ") or (block and line == ""):
        block.append(line[4:])
    elif block:
        blocks.append("\n".join(block).strip("\n") + "\n")
        block = []
examples = [text for text in blocks if "checks:" in text]
for number, text in enumerate(examples):
    (out / f"docs_declarative-checks_{number}.yaml").write_text(text)
PY

# The snapshot_archive target gzips its input itself, so its seeds are plain tar streams of
# snapshot folders (snapshot.json, rootfs/ and commands/). broken-node leaves out its PKI,
# manifests and control plane kubeconfigs to stay small. Its nested copy has the snapshot in one
# top folder, the other layout that SnapshotHost::open accepts.
tar_options=(--owner=0 --group=0 --numeric-owner --blocking-factor=1)
for snapshot in tests/fixtures/cases/*/snapshot; do
  case_number=$(basename "$(dirname "$snapshot")" | cut -c1-3)
  tar -C "$snapshot" "${tar_options[@]}" -cf "$out/snapshot_archive/case-$case_number.tar" .
done
small=(--exclude=pki --exclude=manifests --exclude=admin.conf --exclude=scheduler.conf
  --exclude=controller-manager.conf)
tar -C examples/broken-node "${tar_options[@]}" "${small[@]}" -cf "$out/snapshot_archive/broken-node.tar" .
tar -C examples "${tar_options[@]}" "${small[@]}" -cf "$out/snapshot_archive/broken-node-nested.tar" broken-node
