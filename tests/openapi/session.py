"""Signs in to a running `roster serve` and prints what tests/openapi/schemathesis.sh needs.

    python3 session.py http://ADDR USERNAME < password

Prints three lines, `NAME=value`, each value hexadecimal or decimal (safe to
read in the shell):

    ROSTER_TOKEN=...            the session token of POST /api/v2.5/auth-token/
    ROSTER_ADMIN_ID=...         the user's numeric id (Testpress, Django), from GET /api/v2.5/me/
    ROSTER_ADMIN_SUNBIRD_ID=... its Sunbird user id (the user's UUID), from
                                POST /api/user/v1/profile/read by its username

Only the standard library; every proxy setting is ignored (the server is on
loopback).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(base: str, method: str, path: str, body: object = None, token: str | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"JWT {token}")
    with OPENER.open(request, timeout=30) as response:
        return json.load(response)


def main() -> None:
    base, username = sys.argv[1].rstrip("/"), sys.argv[2]
    password = sys.stdin.readline().rstrip("\n")
    token = call(base, "POST", "/api/v2.5/auth-token/", {"username": username, "password": password})["token"]
    me = call(base, "GET", "/api/v2.5/me/", token=token)
    # The Sunbird surface names a user by its UUID (core/src/api/sunbird:
    # user_by_uuid); roster's own views do not show it, the Sunbird profile
    # read by login (the username) does, as result.response.id.
    profile = call(
        base, "POST", "/api/user/v1/profile/read", {"request": {"loginId": username}}, token=token
    )["result"]["response"]
    if profile.get("userName") != username:
        raise SystemExit(f"session.py: the Sunbird profile read answered {profile.get('userName')!r}")
    values = {
        "ROSTER_TOKEN": str(token),
        "ROSTER_ADMIN_ID": str(me["id"]),
        "ROSTER_ADMIN_SUNBIRD_ID": str(profile["id"]),
    }
    # The values go into the shell: nothing but what they are.
    checks = {
        "ROSTER_TOKEN": r"[0-9A-Za-z._-]+",
        "ROSTER_ADMIN_ID": r"[0-9]+",
        "ROSTER_ADMIN_SUNBIRD_ID": r"[0-9a-fA-F-]{32,36}",
    }
    for name, value in values.items():
        if not re.fullmatch(checks[name], value):
            raise SystemExit(f"session.py: unexpected {name}: {value!r}")
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
