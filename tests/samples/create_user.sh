#!/bin/sh
# Create a user who joins two batches until an expiry date, and print the
# created user.
#
#   ROSTER_TOKEN=... sh create_user.sh [USERNAME [EMAIL [EXPIRES]]]
#
# ROSTER_URL is the server's address (default http://127.0.0.1:8000),
# ROSTER_TOKEN a token from sign_in.sh of a user allowed to add users. The
# batches "Test Batch" and "UPSC Morning Batch" must exist. EXPIRES is a
# date, yyyy-mm-dd (default: a year from today).
set -eu

url="${ROSTER_URL:-http://127.0.0.1:8000}"

# A JSON string's content: `\` and `"` escaped.
json_text() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

username="$(json_text "${1:-lorem}")"
email="$(json_text "${2:-lorem@example.com}")"
# GNU date, then BSD date.
expires="${3:-$(date -d '+1 year' +%Y-%m-%d 2>/dev/null || date -v+1y +%Y-%m-%d)}"

curl --silent --show-error --fail-with-body \
  --request POST \
  --url "${url%/}/api/v2.5/admin/users/" \
  --header "authorization: JWT $ROSTER_TOKEN" \
  --header 'content-type: application/json' \
  --data "{\"username\": \"$username\", \"password\": \"ipsum-dolor-1\", \"first_name\": \"John\", \"last_name\": \"Appleseed\", \"email\": \"$email\", \"birth_date\": \"03/07/2016\", \"state\": \"IN-TN\", \"batches\": [\"Test Batch\", \"UPSC Morning Batch\"], \"expires\": \"$expires\"}"
echo
