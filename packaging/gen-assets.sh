#!/bin/sh
# Writes shell completions and the man page generated from a node-doctor binary, for packages.
#
# Usage: packaging/gen-assets.sh [BINARY] [OUTPUT_DIR]
#   BINARY      default target/release/node-doctor
#   OUTPUT_DIR  default target/assets
#
# Output: OUTPUT_DIR/node-doctor.1, OUTPUT_DIR/completions/node-doctor.bash,
# OUTPUT_DIR/completions/_node-doctor (zsh) and OUTPUT_DIR/completions/node-doctor.fish.
set -eu

binary="${1:-target/release/node-doctor}"
out="${2:-target/assets}"

if [ ! -x "$binary" ]; then
    echo "gen-assets.sh: $binary is not an executable; build it first (cargo build --release)" >&2
    exit 1
fi

mkdir -p "$out/completions"
"$binary" man >"$out/node-doctor.1"
"$binary" completions bash >"$out/completions/node-doctor.bash"
"$binary" completions zsh >"$out/completions/_node-doctor"
"$binary" completions fish >"$out/completions/node-doctor.fish"
echo "gen-assets.sh: wrote the man page and completions to $out"
