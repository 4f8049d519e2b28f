# Sourced by tests/run: a throwaway PostgreSQL server for the tests of
# roster-postgres. `postgres_start` installs the Debian server when its
# binaries are missing, makes a fresh data folder in a temporary directory
# (owned by the `postgres` system user: initdb refuses root), starts the
# server on a free loopback port with fsync off (tests only) and exports
# ROSTER_TEST_DB; `postgres_stop` stops it and removes the folder. No other
# server is touched.

postgres_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

postgres_start() {
    local bin
    if ! bin=$(postgres_bin); then
        echo "installing PostgreSQL (apt)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin=$(postgres_bin)
    fi
    local run=()
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        run=(runuser -u postgres --)
    fi
    ROSTER_PG_DIR=$(mktemp -d /tmp/roster-pg.XXXXXX)
    chmod 755 "$ROSTER_PG_DIR"
    [[ ${#run[@]} -eq 0 ]] || chown postgres "$ROSTER_PG_DIR"
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${run[@]}" "$bin/initdb" -D "$ROSTER_PG_DIR/data" -A trust -U roster >/dev/null
    "${run[@]}" "$bin/pg_ctl" -D "$ROSTER_PG_DIR/data" -l "$ROSTER_PG_DIR/log" -w \
        -o "-p $port -k $ROSTER_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c max_pred_locks_per_transaction=256" \
        start >/dev/null
    ROSTER_PG_BIN=$bin
    ROSTER_PG_RUN=("${run[@]}")
    export ROSTER_TEST_DB="postgres://roster@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port (data in $ROSTER_PG_DIR)"
}

postgres_stop() {
    [[ -n ${ROSTER_PG_DIR:-} ]] || return 0
    "${ROSTER_PG_RUN[@]}" "$ROSTER_PG_BIN/pg_ctl" -D "$ROSTER_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$ROSTER_PG_DIR"
    unset ROSTER_PG_DIR ROSTER_TEST_DB
}
