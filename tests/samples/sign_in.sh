#!/bin/sh
# Sign in and print the answer: {"token": "...", "expires": "..."}.
#
#   ROSTER_USERNAME=admin ROSTER_PASSWORD=... sh sign_in.sh
#
# ROSTER_URL is the server's address (default http://127.0.0.1:8000). The
# password travels in the environment, not on the command line, so other
# users of the machine cannot read it from the process list.
set -eu

url="${ROSTER_URL:-http://127.0.0.1:8000}"

# A JSON string's content: `\` and `"` escaped.
json_text() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# The body is read from standard input (`--data @-`) for the same reason.
printf '{"username": "%s", "password": "%s"}' \
  "$(json_text "$ROSTER_USERNAME")" "$(json_text "$ROSTER_PASSWORD")" |
curl --silent --show-error --fail-with-body \
  --request POST \
  --url "${url%/}/api/v2.5/auth-token/" \
  --header 'content-type: application/json' \
  --data @-
echo
