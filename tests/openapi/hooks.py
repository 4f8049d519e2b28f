"""Schemathesis hooks of tests/openapi/schemathesis.sh (SCHEMATHESIS_HOOKS).

The run signs in once, as an administrator, and sends every generated case
with that token: a case that deletes, deactivates, blocks, re-passwords or
merges away that administrator would end the session, and every later case
would test nothing but "401 Invalid token.". The filters below drop exactly
the generated cases that target the administrator, by its ids on the two
surfaces that address users:

- ROSTER_ADMIN_ID: its numeric id on the Testpress paths
  (`/api/{version}/admin/users/{id}...`) and the Django ones
  (`/api/admin/users/{id}`). roster reads a path id as ASCII digits that
  fit in u64, so `01` is user 1 too: ids are compared as numbers.
- ROSTER_ADMIN_SUNBIRD_ID: its Sunbird user id, the user's UUID, which the
  Sunbird bodies carry as `request.userId` (update, block, role assign,
  migrate; update also takes `request.id` when `userId` is not sent) and
  `request.fromAccountId` / `request.toAccountId` (merge). roster reads it
  as `parse_uuid` does (core/src/domain/mod.rs): hyphens dropped anywhere,
  32 hexadecimal digits of any case, around it whitespace: compared so.

Which phase applies which hook (schemathesis 4.x): the fuzzing phase builds
path parameters and bodies through `filter_path_parameters` and
`filter_body`, then whole cases through `filter_case`; the coverage phase
and the stateful one apply `filter_case` only; the examples phase (the
document's own `example`s) applies none. So `filter_case` carries the rule,
the two others drop the same values earlier in fuzzing (fewer rejected
cases), and `before_call` is the last guard: a case that targets the
administrator and reached the wire anyway (an explicit example) fails the
run with this file's name rather than silently ending the session.

The operations that end the caller's own session or credentials whatever
their input (sign-out, the own-password change) are excluded by path and
method in schemathesis.sh, not here.
"""

from __future__ import annotations

import os
import re
import string
from typing import Any

import schemathesis

ADMIN_ID = int(os.environ["ROSTER_ADMIN_ID"])


def _uuid(value: Any) -> int | None:
    """`value` read as roster's `parse_uuid` reads a Sunbird user id, or None."""
    if not isinstance(value, str):
        return None
    hex_digits = value.strip().replace("-", "")
    if len(hex_digits) != 32:
        return None
    # Rust's u128::from_str_radix takes one leading `+`.
    body = hex_digits[1:] if hex_digits.startswith("+") else hex_digits
    if not body or any(c not in string.hexdigits for c in body):
        return None
    return int(body, 16)


ADMIN_SUNBIRD_ID = _uuid(os.environ["ROSTER_ADMIN_SUNBIRD_ID"])
if ADMIN_SUNBIRD_ID is None:
    raise RuntimeError("ROSTER_ADMIN_SUNBIRD_ID is not a UUID")

# A user's own path: `/api/{version}/admin/users/{id}` (and below it) of
# Testpress, `/api/admin/users/{id}` of Django. Group 1 is the template's
# name of the id parameter, whatever the document calls it (`id`, `userId`).
# The version may be literal (`v2.5`) or a parameter (`{version}`).
USER_PATH = re.compile(r"^/api/(?:[^/]+/)?admin/users/\{([^}/]+)\}(?:/.*)?$")

# The methods that change or delete the user of the path (GETs stay: reading
# the administrator is harmless and worth testing).
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

# The keys of a Sunbird `request` object that name a user by its UUID.
SUNBIRD_USER_KEYS = ("userId", "id", "fromAccountId", "toAccountId")


def _full_path(operation: Any) -> str:
    """The operation's path template with the document's base path."""
    try:
        return str(operation.full_path)
    except AttributeError:
        return str(operation.path)


def _user_param(operation: Any) -> str | None:
    """The name of the path parameter that is a user id, for a write to a user's path."""
    if operation is None or str(operation.method).upper() not in WRITES:
        return None
    match = USER_PATH.match(_full_path(operation))
    return match.group(1) if match else None


def _is_admin_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value == ADMIN_ID
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) == ADMIN_ID


def _path_targets_admin(operation: Any, path_parameters: Any) -> bool:
    name = _user_param(operation)
    if name is None or not isinstance(path_parameters, dict) or name not in path_parameters:
        return False
    return _is_admin_id(path_parameters[name])


def _body_targets_admin(operation: Any, body: Any) -> bool:
    """A Sunbird write whose `request` names the administrator."""
    if operation is None or not _full_path(operation).startswith("/api/user/"):
        return False
    if not isinstance(body, dict) or not isinstance(body.get("request"), dict):
        return False
    request = body["request"]
    return any(_uuid(request.get(key)) == ADMIN_SUNBIRD_ID for key in SUNBIRD_USER_KEYS)


def _case_targets_admin(case: Any) -> bool:
    return _path_targets_admin(case.operation, case.path_parameters) or _body_targets_admin(
        case.operation, case.body
    )


@schemathesis.hook
def filter_path_parameters(ctx: Any, path_parameters: Any) -> bool:
    """Fuzzing: no write to the administrator's own user path."""
    return not _path_targets_admin(ctx.operation, path_parameters)


@schemathesis.hook
def filter_body(ctx: Any, body: Any) -> bool:
    """Fuzzing: no Sunbird write whose body names the administrator."""
    return not _body_targets_admin(ctx.operation, body)


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    """Every generating phase: neither of the two above, on the whole case."""
    return not _case_targets_admin(case)


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: Any) -> None:
    """The last guard: a case that targets the administrator is never sent."""
    if _case_targets_admin(case):
        raise RuntimeError(
            f"tests/openapi/hooks.py: {case.method} {case.formatted_path} would change the "
            "administrator whose token this run uses (from an explicit example?); "
            "refusing to send it"
        )
