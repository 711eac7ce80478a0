#!/usr/bin/env bash
# Runs every test: lints, native unit and integration tests against the real
# PostgreSQL and Redis, the wasm32 build of shared and the client, and the
# browser tests in headless Chromium against a started release server.
# Ends with one summary line and a non-zero exit if anything failed.
source "$(dirname "$0")/lib.sh"

STARTED=$SECONDS
FAILED_STAGES=()
PASSED=0
FAILED=0
SERVER_PID=

# Runs one stage, teeing its output to a log so its test counts can be read.
stage() {
  local name=$1 log_file
  shift
  log_file="$LOGS/$(echo "$name" | tr ' /' '__').log"
  log "$name"
  local start=$SECONDS
  if "$@" 2>&1 | tee "$log_file"; then
    note "$name: ok ($((SECONDS - start)) s)"
  else
    note "$name: FAILED ($((SECONDS - start)) s)"
    FAILED_STAGES+=("$name")
  fi
}

# Adds the counts of every `test result:` line of a cargo test log.
count_cargo_tests() {
  local passed failed
  read -r passed failed < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } } END { print p + 0, f + 0 }' "$1")
  PASSED=$((PASSED + passed))
  FAILED=$((FAILED + failed))
}

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT

free_port() {
  local port
  for port in $(seq 39100 39199); do
    port_open 127.0.0.1 "$port" || { echo "$port"; return; }
  done
  die "no free port in 39100-39199 for the test server"
}

browser_tests() {
  # This runs in a pipeline's subshell, which does not inherit the EXIT trap.
  trap stop_server EXIT
  local port db url site
  port=$(free_port)
  db=tabletop_e2e
  recreate_database "$db"
  url="http://127.0.0.1:$port"
  site="$ROOT/target/site"
  [ -f "$site/pkg/tabletop.wasm" ] || { echo "no release wasm under $site/pkg"; return 1; }
  note "starting the release server at $url"
  DATABASE_URL="${DATABASE_URL%/*}/$db" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$site" \
    LEPTOS_ENV=PROD RUST_LOG=info,tower_http=warn SIGN_UPS_PER_ADDRESS=0 METRICS_ADDR= \
    "$CARGO_TARGET_DIR/release/server" >"$LOGS/e2e-server.log" 2>&1 &
  SERVER_PID=$!
  local i
  for i in $(seq 1 60); do
    curl_ok "$url/healthz" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOGS/e2e-server.log"; return 1; }
    sleep 0.5
  done
  local status=0
  # faults.spec.ts starts nodes of its own on the Redis engine, on the same
  # database and Redis, to kill them mid-test.
  (cd end2end && CI=${CI:-} BASE_URL="$url" E2E_SERVER_BIN="$CARGO_TARGET_DIR/release/server" \
    E2E_DATABASE_URL="${DATABASE_URL%/*}/$db" E2E_SITE_ROOT="$site" npx playwright test) || status=$?
  stop_server
  if [ "$status" -ne 0 ]; then
    note "server log (last 40 lines):"
    tail -n 40 "$LOGS/e2e-server.log" >&2
  fi
  return "$status"
}

# A GET that succeeds on HTTP 200, with nothing but bash.
curl_ok() {
  local hostport=${1#http://} path
  path=/${hostport#*/}
  hostport=${hostport%%/*}
  (
    exec 4<>"/dev/tcp/${hostport%:*}/${hostport#*:}" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&4
    read -r first <&4 || exit 1
    [[ $first == *" 200 "* ]]
  ) 2>/dev/null
}

count_playwright_tests() {
  local report=end2end/playwright-report/results.json counts
  [ -f "$report" ] || { FAILED=$((FAILED + 1)); return; }
  counts=$(node -e '
    const s = require(process.argv[1]).stats;
    console.log(s.expected + s.flaky, s.unexpected);' "$ROOT/$report")
  PASSED=$((PASSED + ${counts% *}))
  FAILED=$((FAILED + ${counts#* }))
}

ensure_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Chromium (Debian's; test tools cannot download their own here)"
    apt_install chromium
  fi
  local stamp=end2end/node_modules/.lock-hash hash
  hash=$(sha256sum end2end/package-lock.json | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
    log "installing the browser-test packages (npm ci)"
    (cd end2end && npm ci --no-audit --no-fund --silent)
    echo "$hash" >"$stamp"
  fi
}

# moto's S3 server, for the object-storage tier's tests.
ensure_moto() {
  local venv="$CACHE_DIR/moto-$MOTO_VERSION"
  export MOTO_SERVER="$venv/bin/moto_server"
  [ -x "$MOTO_SERVER" ] && return
  log "installing moto[server]==$MOTO_VERSION (an S3-compatible server for the media tests)"
  python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  [ -x "$MOTO_SERVER" ] || die "moto did not install $MOTO_SERVER"
}

# The fault tests (server/tests/faults) run a PostgreSQL and a Redis of
# their own, to crash and restart them without disturbing anything else:
# they need the server programs even where DATABASE_URL and REDIS_URL point
# at servers that are already running.
ensure_fault_programs() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
    log "installing PostgreSQL's server programs (the fault tests run their own)"
    apt_install postgresql
  fi
  command -v redis-server >/dev/null || { log "installing Redis (the fault tests run their own)"; apt_install redis-server; }
}

prepare
ensure_browser
ensure_moto
ensure_fault_programs
LOGS="$CARGO_TARGET_DIR/test-logs"
mkdir -p "$LOGS"
rm -f end2end/playwright-report/results.json

stage "format" cargo fmt --all --check
stage "clippy (native)" cargo clippy --release --locked -p shared -p app -p server -p loadgen --all-targets -- -D warnings
stage "clippy (wasm32: shared and the client)" \
  cargo clippy --release --locked -p shared -p frontend --target wasm32-unknown-unknown -- -D warnings
# --no-fail-fast: one failing test binary must not hide the others' results.
stage "unit and integration tests" cargo test --release --locked --no-fail-fast -p shared -p app -p server
count_cargo_tests "$LOGS/unit_and_integration_tests.log"
# The core again with debug assertions and overflow checks, which the
# release profile leaves out (an overflow there wraps silently).
stage "shared with debug assertions" cargo test --locked --no-fail-fast -p shared
count_cargo_tests "$LOGS/shared_with_debug_assertions.log"
# Both engines pass the same live-session suite. The same packages as
# above, so features unify the same way and nothing is rebuilt.
stage "live sessions on the Redis engine" \
  env LIVE_ENGINE=redis cargo test --release --locked --no-fail-fast -p shared -p app -p server --test live --test hostile
count_cargo_tests "$LOGS/live_sessions_on_the_Redis_engine.log"
stage "release build (cargo leptos)" cargo leptos build --release
if [[ " ${FAILED_STAGES[*]} " == *"release build"* ]]; then
  note "browser tests skipped: the release build failed"
else
  stage "browser tests (headless Chromium)" browser_tests
  count_playwright_tests
fi

log "summary ($((SECONDS - STARTED)) s)"
if [ ${#FAILED_STAGES[@]} -gt 0 ]; then
  for name in "${FAILED_STAGES[@]}"; do note "failed: $name"; done
fi
echo "tests: $PASSED passed, $FAILED failed"
[ ${#FAILED_STAGES[@]} -eq 0 ] && [ "$FAILED" -eq 0 ]
