#!/bin/sh
# Find a user by email and print the answer: a page of at most one user, with
# the user's batches.
#
#   ROSTER_TOKEN=... sh view_user.sh EMAIL
#
# ROSTER_URL is the server's address (default http://127.0.0.1:8000),
# ROSTER_TOKEN a token from sign_in.sh of a user allowed to view users.
set -eu

url="${ROSTER_URL:-http://127.0.0.1:8000}"

# --get with --data-urlencode puts `email=...`, percent-encoded, in the query.
curl --silent --show-error --fail-with-body \
  --get \
  --url "${url%/}/api/v2.5/admin/users/" \
  --header "authorization: JWT $ROSTER_TOKEN" \
  --data-urlencode "email=$1"
echo
