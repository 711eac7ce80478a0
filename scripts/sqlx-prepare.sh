#!/usr/bin/env bash
# Refreshes .sqlx/, the query metadata that lets `query!` macros compile
# without a database (SQLX_OFFLINE=true in .cargo/config.toml).
# Run it after adding or changing a query or a migration, and commit .sqlx/.
#
# It applies the migrations to a scratch database, compiles the crates that
# hold queries against it, and keeps what the macros wrote. No sqlx-cli needed.
source "$(dirname "$0")/lib.sh"
load_env
ensure_postgres

scratch=tabletop_sqlx_prepare
recreate_database "$scratch"
scratch_url="${DATABASE_URL%/*}/$scratch"
for migration in migrations/*.sql; do
  psql "$scratch_url" -X -q -v ON_ERROR_STOP=1 -f "$migration" >/dev/null
done

rm -rf .sqlx
mkdir -p .sqlx
# The macros only run when their crate recompiles.
touch server/src/*.rs
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$ROOT/.sqlx" DATABASE_URL="$scratch_url" \
  cargo check --release -p server --all-targets
psql "$DATABASE_URL" -X -q -c "drop database \"$scratch\"" >/dev/null
log "wrote $(find .sqlx -name 'query-*.json' | wc -l) queries to .sqlx/"
