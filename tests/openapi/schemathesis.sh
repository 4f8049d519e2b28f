#!/usr/bin/env bash
# Schemathesis (PyPI) against `roster serve`: every operation of roster's
# OpenAPI document, with generated valid input (positive mode), checked for
# no 5xx, a documented status, a documented Content-Type and a body that
# matches the documented schema. Run by `tests/run openapi`.
#
#   tests/openapi/schemathesis.sh
#
# What it does: builds roster-cli (debug); in a temporary folder outside the
# repository, creates a store with one administrator, starts
# `roster serve --port 0 --bind 127.0.0.1`, signs in (tests/openapi/session.py:
# token, the administrator's numeric and Sunbird ids), runs `st run` on the
# document the server serves at GET /api/openapi.json, checks that the
# token still works, and stops the server however the run ends (its log's
# tail is printed when something failed).
#
# Schemathesis is installed once into a virtual environment under target/
# (target/schemathesis-venv, made again when SCHEMATHESIS_VERSION changes);
# python3-venv comes from apt when missing.
#
# Environment:
#   ROSTER_SCHEMATHESIS_EXAMPLES  test cases per operation and phase (default 25)
#   ROSTER_SCHEMATHESIS_SEED      the seed of the generated data (default fixed,
#                                 so two runs send the same cases)
#   ROSTER_OPENAPI_SCHEMA         a document file to test instead of the served
#                                 one (`st run FILE --url http://ADDR`): for
#                                 trying a hand-written or changed document
#                                 against the real server
#   CARGO_TARGET_DIR              where cargo builds (default ./target)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD

# The version this harness was written and tested against (4.x: the flags
# below are its own). Changing it makes the environment again.
SCHEMATHESIS_VERSION=4.32.5
EXAMPLES=${ROSTER_SCHEMATHESIS_EXAMPLES:-25}
SEED=${ROSTER_SCHEMATHESIS_SEED:-20251203}
VENV="$ROOT/target/schemathesis-venv"

if ! [[ "$EXAMPLES" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: ROSTER_SCHEMATHESIS_EXAMPLES must be a positive number, not '$EXAMPLES'" >&2
    exit 2
fi
if [[ -n "${ROSTER_OPENAPI_SCHEMA:-}" && ! -f "$ROSTER_OPENAPI_SCHEMA" ]]; then
    echo "error: ROSTER_OPENAPI_SCHEMA: no file '$ROSTER_OPENAPI_SCHEMA'" >&2
    exit 2
fi

# ---- schemathesis, in its own environment -----------------------------------

venv_ensure() {
    local stamp="$VENV/.roster-schemathesis-version"
    if [[ -x "$VENV/bin/st" && -f "$stamp" && "$(cat "$stamp")" == "$SCHEMATHESIS_VERSION" ]]; then
        echo "schemathesis $SCHEMATHESIS_VERSION: $VENV (cached)"
        return
    fi
    local apt=()
    command -v python3 >/dev/null 2>&1 || apt+=(python3)
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        apt+=(python3-venv)
    fi
    if ((${#apt[@]})); then
        echo "installing: ${apt[*]} (apt)"
        apt-get update -qq && apt-get install -y -qq "${apt[@]}"
    fi
    echo "installing: schemathesis $SCHEMATHESIS_VERSION (PyPI) into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION"
    # Written last: an interrupted install is made again next time.
    echo "$SCHEMATHESIS_VERSION" >"$stamp"
}

# ---- roster -----------------------------------------------------------------

venv_ensure
echo "cargo build -p roster-cli"
cargo build -p roster-cli
target=${CARGO_TARGET_DIR:-target}
[[ "$target" == /* ]] || target="$ROOT/$target"
ROSTER="$target/debug/roster"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/roster-schemathesis.XXXXXX")
SERVER_PID=
ok=0
finish() {
    local status=$?
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if ((ok == 0)) && [[ -f "$TMP/server.log" ]]; then
        echo "---- roster serve: the last lines of its log (stderr) ----" >&2
        tail -n 40 "$TMP/server.log" >&2 || true
    fi
    rm -rf "$TMP"
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

# Only the loopback server is reached: no proxy in between.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# The --db given below is the store; ROSTER_DB would be ignored, but is not
# carried either.
unset ROSTER_DB

STORE="$TMP/institute.redb"
USERNAME='admin'
# Only this run knows it, and it meets the password policy.
PASSWORD="St-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')-9"
# A first user takes id 1, so that the administrator is not the user of a
# document's `example: 1` (the examples phase sends explicit examples without
# the filters of hooks.py, whose guard would then fail the run); that user may
# be deleted or changed like any other.
printf '%s\n' "$PASSWORD" | "$ROSTER" --db "$STORE" superuser --username first-user --password-stdin
printf '%s\n' "$PASSWORD" | "$ROSTER" --db "$STORE" superuser --username "$USERNAME" --password-stdin

"$ROSTER" --db "$STORE" serve --port 0 --bind 127.0.0.1 >"$TMP/server.out" 2>"$TMP/server.log" &
SERVER_PID=$!
ADDR=
for _ in $(seq 300); do
    line=$(head -n 1 "$TMP/server.out" 2>/dev/null || true)
    if [[ "$line" == "roster serve: listening on http://"* ]]; then
        ADDR=${line#roster serve: listening on }
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "error: roster serve exited before listening" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ ! "$ADDR" =~ ^http://127\.0\.0\.1:[0-9]+$ ]]; then
    echo "error: roster serve printed no loopback address in 30 s (got '${line:-}')" >&2
    exit 1
fi
echo "roster serve: $ADDR (pid $SERVER_PID)"

# ROSTER_TOKEN, ROSTER_ADMIN_ID, ROSTER_ADMIN_SUNBIRD_ID (checked by session.py).
session=$(printf '%s\n' "$PASSWORD" | "$VENV/bin/python" tests/openapi/session.py "$ADDR" "$USERNAME")
ROSTER_TOKEN='' ROSTER_ADMIN_ID='' ROSTER_ADMIN_SUNBIRD_ID=''
while IFS='=' read -r name value; do
    case "$name" in
        ROSTER_TOKEN | ROSTER_ADMIN_ID | ROSTER_ADMIN_SUNBIRD_ID) printf -v "$name" '%s' "$value" ;;
    esac
done <<<"$session"
echo "administrator: id $ROSTER_ADMIN_ID, Sunbird id $ROSTER_ADMIN_SUNBIRD_ID"
export ROSTER_ADMIN_ID ROSTER_ADMIN_SUNBIRD_ID

# ---- schemathesis -----------------------------------------------------------

if [[ -n "${ROSTER_OPENAPI_SCHEMA:-}" ]]; then
    schema=$(realpath "$ROSTER_OPENAPI_SCHEMA")
    location=("$schema" --url "$ADDR")
else
    location=("$ADDR/api/openapi.json")
fi

# Operations left out by method and path (the operation's name is
# "METHOD /path", the path as the document writes it, `{version}` or `v2.5`):
# - DELETE /api/<version>/auth-token/: signs the caller out, whatever is sent;
#   the token of this run would end with the first case.
# - POST /api/<version>/me/password/: changes the caller's own password, which
#   ends its sessions (a new credential generation); a wrong old password
#   counts toward the caller's lock-out instead.
# - GET /api/openapi.json: the document itself, if it ever lists itself.
# The rest stays in, filtered precisely by tests/openapi/hooks.py (the cases
# that would delete, deactivate, block, re-password, re-role, migrate or merge
# away the administrator). Not left out, having been checked:
# - PUT/PATCH /api/<version>/me/: change only the caller's profile fields
#   (Admin::update_me keeps nothing but the profile of the patch), never
#   is_active, is_blocked, the password or the access, so the session lives.
# - POST /api/<version>/auth-token/ (sign-in): a failed sign-in as the
#   administrator counts toward its lock-out, but a lock-out only refuses new
#   sign-ins: Institute::session ignores it, so this run's token still works.
exclude='^(DELETE /api/[^/]+/auth-token/?|POST /api/[^/]+/me/password/?|GET /api/openapi\.json)$'

checks='not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance'
st_args=(
    run "${location[@]}"
    --mode positive
    --checks "$checks"
    --max-examples "$EXAMPLES"
    --seed "$SEED"
    --workers 1
    --header "Authorization: JWT $ROSTER_TOKEN"
    # The document's other scheme (the Sunbird paths read this header
    # first): given too, or schemathesis would fill it with generated text.
    --header "x-authenticated-user-token: $ROSTER_TOKEN"
    --exclude-name-regex "$exclude"
    --generation-database none
    --request-timeout 30
    --max-redirects 0
    --no-color
)
echo "schemathesis: st ${st_args[*]//$ROSTER_TOKEN/<token>}"
start=$SECONDS
status=0
# From the temporary folder: no config file of the working directory is read
# and nothing is left in the repository.
(cd "$TMP" && SCHEMATHESIS_HOOKS="$ROOT/tests/openapi/hooks.py" "$VENV/bin/st" "${st_args[@]}") || status=$?
echo "schemathesis: exit $status in $((SECONDS - start)) s"

# The filters did their work: the administrator's token still opens its profile.
if ! "$VENV/bin/python" - "$ADDR" "$ROSTER_TOKEN" <<'EOF'; then
import sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
request = urllib.request.Request(base + "/api/v2.5/me/", headers={"Authorization": f"JWT {token}"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(request, timeout=30) as response:
        assert response.status == 200, response.status
except Exception as exc:
    sys.exit(f"the administrator's token no longer works after the run: {exc}")
print("the administrator's token still works")
EOF
    status=1
fi
if ((status != 0)); then
    exit "$status"
fi
ok=1
