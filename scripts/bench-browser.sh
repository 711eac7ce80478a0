#!/usr/bin/env bash
# The in-browser benchmarks of docs/BENCHMARKS.md: builds the release site,
# starts a server on a fresh database (`tabletop_bench_browser`), runs
# end2end/bench in headless Chromium, prints the numbers (also written to
# end2end/bench-results/*.json), stops the server.
source "$(dirname "$0")/lib.sh"
prepare
log "building the release site"
cargo leptos build --release
recreate_database tabletop_bench_browser
port=39250
DATABASE_URL="${DATABASE_URL%/*}/tabletop_bench_browser" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_ENV=PROD RUST_LOG=warn SIGN_UPS_PER_ADDRESS=0 METRICS_ADDR= \
  "$CARGO_TARGET_DIR/release/server" >"$CARGO_TARGET_DIR/bench-browser-server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
wait_for_port 127.0.0.1 "$port" "the benchmark server"
(cd end2end && BASE_URL="http://127.0.0.1:$port" npx playwright test --config bench.config.ts)
