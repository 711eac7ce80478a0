#!/usr/bin/env bash
# Runs the tabletop: installs what is missing, starts PostgreSQL and Redis if
# none answers at DATABASE_URL / REDIS_URL, builds a release and serves it
# (migrations are applied by the server at start). Ctrl-C stops it.
source "$(dirname "$0")/lib.sh"
prepare
log "building and serving (release); the address is printed below once it is up"
exec cargo leptos serve --release
