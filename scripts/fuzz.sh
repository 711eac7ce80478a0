#!/usr/bin/env bash
# Fuzzes decode + validate + apply of arbitrary client frames
# (shared/fuzz/fuzz_targets/decode_apply.rs), or the visibility polygon
# (visibility.rs). Not part of the test command; the frames it flags go in
# shared/fuzz/regressions/, which the tests replay.
#
# usage: scripts/fuzz.sh [seconds] [decode_apply|visibility]   (default 300 decode_apply)
source "$(dirname "$0")/lib.sh"
load_env
seconds=${1:-300}
target=${2:-decode_apply}
command -v cargo-fuzz >/dev/null || { log "installing cargo-fuzz"; cargo install cargo-fuzz --locked; }
mkdir -p "shared/fuzz/corpus/$target"
[[ $target == decode_apply ]] && cp -n shared/fuzz/seeds/* shared/fuzz/corpus/decode_apply/
cd shared
# No sanitizer: this toolchain is stable (the target has no unsafe code).
status=0
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz" cargo fuzz run "$target" --sanitizer none -- \
  -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=65536 || status=$?
# Whatever it flagged (crash-, oom-, timeout-) is kept in the repository and
# replayed by `cargo test` forever (shared/tests/fuzz_regressions.rs); fix
# the code, then commit the file.
shopt -s nullglob
for found in fuzz/artifacts/"$target"/*; do
  dest=fuzz/regressions/
  [[ $target == decode_apply ]] || dest="fuzz/regressions/$target/"
  mkdir -p "$dest"
  cp -n "$found" "$dest"
  log "kept $(basename "$found") in shared/$dest"
done
exit "$status"
