#!/usr/bin/env bash
# The live-session load benchmark of docs/BENCHMARKS.md: starts N release
# servers on a fresh database (`tabletop_load`), runs the load generator
# against them, stops them.
#
#   scripts/bench-live.sh NODES RATE SECONDS [loadgen options...]
#
# One node runs the in-process engine (without Redis unless KEEP_REDIS=1);
# two or more run the Redis engine, the load generator connecting each
# session's GM to the first node and its players to each node in turn.
# SESSIONS (default 100) and PLAYERS per session (default 5) shape the load;
# BIN names a folder with other builds of `server` and `loadgen` to compare.
source "$(dirname "$0")/lib.sh"

NODES=${1:?nodes}
RATE=${2:?actions per second}
SECONDS_TO_RUN=${3:?seconds}
shift 3

prepare
if [ -z "${BIN:-}" ]; then
  log "building the server and the load generator (release)"
  cargo build --release --locked -p server -p loadgen --bins
  BIN="$CARGO_TARGET_DIR/release"
fi

recreate_database tabletop_load
LOAD_URL="${DATABASE_URL%/*}/tabletop_load"
PIDS=()
URLS=()
stop_nodes() {
  [ ${#PIDS[@]} -gt 0 ] && kill -TERM "${PIDS[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_nodes EXIT

for n in $(seq 1 "$NODES"); do
  port=$((39299 + n))
  if [ "$NODES" -gt 1 ]; then
    engine=redis redis_url=$REDIS_URL
  else
    engine=memory redis_url=${KEEP_REDIS:+$REDIS_URL}
  fi
  log "node $n: $engine engine at 127.0.0.1:$port"
  RUST_LOG=warn DATABASE_URL=$LOAD_URL LIVE_ENGINE=$engine REDIS_URL=$redis_url METRICS_ADDR= \
    LEPTOS_SITE_ADDR=127.0.0.1:$port MEDIA_DIR="$CARGO_TARGET_DIR/bench-media" \
    "$BIN/server" >"$CARGO_TARGET_DIR/bench-node$n.log" 2>&1 &
  PIDS+=($!)
  URLS+=("http://127.0.0.1:$port")
  wait_for_port 127.0.0.1 "$port" "node $n (log: $CARGO_TARGET_DIR/bench-node$n.log)"
done

log "load: $RATE actions/s for $SECONDS_TO_RUN s"
RUST_LOG=warn DATABASE_URL=$LOAD_URL "$BIN/loadgen" \
  --url "$(IFS=,; echo "${URLS[*]}")" --sessions "${SESSIONS:-100}" --players "${PLAYERS:-5}" \
  --rate "$RATE" --seconds "$SECONDS_TO_RUN" "$@"
