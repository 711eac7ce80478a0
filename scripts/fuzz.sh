#!/usr/bin/env bash
# Fuzzes decode + validate + apply of arbitrary client frames
# (shared/fuzz/fuzz_targets/decode_apply.rs). Not part of the test command;
# the inputs it flags go in shared/fuzz/regressions/, which the tests replay.
#
# usage: scripts/fuzz.sh [seconds]   (default 300)
source "$(dirname "$0")/lib.sh"
load_env
seconds=${1:-300}
command -v cargo-fuzz >/dev/null || { log "installing cargo-fuzz"; cargo install cargo-fuzz --locked; }
mkdir -p shared/fuzz/corpus/decode_apply
cp -n shared/fuzz/seeds/* shared/fuzz/corpus/decode_apply/
cd shared
# No sanitizer: this toolchain is stable (the target has no unsafe code).
status=0
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz" cargo fuzz run decode_apply --sanitizer none -- \
  -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=65536 || status=$?
# Whatever it flagged (crash-, oom-, timeout-) is kept in the repository and
# replayed by `cargo test` forever (shared/tests/fuzz_regressions.rs); fix
# the code, then commit the file.
shopt -s nullglob
for found in fuzz/artifacts/decode_apply/*; do
  cp -n "$found" fuzz/regressions/
  log "kept $(basename "$found") in shared/fuzz/regressions/"
done
exit "$status"
