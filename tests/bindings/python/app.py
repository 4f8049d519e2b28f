#!/usr/bin/env python3
"""An app-like flow through roster's generated Python bindings (roster-ffi).

Run by `tests/run uniffi` after `bindings-uniffi/generate.sh`, against the
package `roster_ffi` in target/bindings/python (or the folder in
ROSTER_PYTHON_BINDINGS); and by `tests/run python_package`, copied outside
the repository, against the wheel installed in a virtual environment (then
no such folder exists and the installed package is imported). Prints each
failed expectation and a closing `N passed, N failed` line; exits 1 when
any expectation failed.
"""

import datetime
import gc
import json
import os
import sys
import tempfile
import threading
import traceback
from typing import Any

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BINDINGS = os.environ.get("ROSTER_PYTHON_BINDINGS") or os.path.join(
    ROOT, "target", "bindings", "python"
)
if os.path.isdir(os.path.join(BINDINGS, "roster_ffi")):
    sys.path.insert(0, BINDINGS)

import roster_ffi as r  # noqa: E402  (Institute, Admin, RosterError, the records)
from roster_ffi import roster  # noqa: E402  (the records: Config, NewUser, BatchInput, ...)

print(f"roster_ffi from {os.path.dirname(r.__file__)}")

# uniffi 0.32's Python declares the error's variants (RosterError.Validation,
# ...) and the data-carrying enum variants (CustomInput.NUMBER, ...) in ways
# mypy does not follow (README, "Install"): the variants are reached through
# this untyped name, and the three enum variants passed as their enum carry
# `# type: ignore[arg-type]`. Everything else here is type-checked
# (`tests/run python_package`: mypy --check-untyped-defs).
RosterError: Any = r.RosterError

PASSED = 0
FAILED = 0


def check(condition, what):
    """Records one expectation."""
    global PASSED, FAILED
    if condition:
        PASSED += 1
    else:
        FAILED += 1
        print(f"FAILED: {what}", file=sys.stderr)


def expect_error(kind, call, what):
    """Runs `call`, expecting it to raise `kind`; returns the exception."""
    try:
        call()
    except kind as e:
        check(True, what)
        return e
    except Exception as e:  # noqa: BLE001 - reported as a failed expectation
        check(False, f"{what}: raised {type(e).__name__}: {e}")
        return None
    check(False, f"{what}: nothing raised")
    return None


# Cheap argon2 parameters: the same code path, a fraction of the cost.
FAST = roster.Config(argon2=roster.Argon2Params(m_kib=64, t=1, p=1))
PASSWORD = "a-long-passphrase"


def first_run(path):
    """Opens a new store file and fills it; returns the admin's token."""
    institute = r.Institute.open_shared(path, FAST)
    admin_id = institute.create_superuser("admin", PASSWORD)
    login = institute.login("admin", PASSWORD)
    check(login.user == admin_id, "the login names the superuser")
    check(len(login.token) == 64, "a token is 64 hex digits")
    check(
        isinstance(login.expires, datetime.datetime)
        and login.expires > datetime.datetime.now(datetime.timezone.utc),
        "the session expires in the future, as a datetime",
    )
    admin = institute.session(login.token)
    check(admin.me().username == "admin", "the session acts for the superuser")

    # Typed calls: a batch, a custom field, a user in the batch.
    morning = admin.create_batch(roster.BatchInput(name="UPSC Morning Batch"))
    check(morning.name == "UPSC Morning Batch" and not morning.is_local, "typed batch")
    year = admin.create_custom_field(
        roster.CustomFieldInput(name="Graduation Year", kind="number")
    )
    check(year.kind == roster.FieldKind.NUMBER, "typed custom field")
    created = admin.create_user(
        roster.NewUser(
            username="ravi",
            password="ravi-pass1",
            profile=roster.ProfileInput(
                email="ravi@example.com",
                first_name="Ravi",
                state="in-tn",
                birth_date="15/08/2000",
                custom_fields=[
                    roster.NamedCustomInput(
                        name="graduation year", value=roster.CustomInput.NUMBER("2020")  # type: ignore[arg-type]
                    )
                ],
            ),
            batches=["upsc morning batch"],
            expires="2099-12-31",
        )
    )
    ravi = created.user
    check(created.generated_password is None, "no password generated unless asked")
    check(ravi.display_name == "Ravi", "display name derived from the first name")
    check(
        ravi.state is not None and ravi.state.name == "Tamil Nadu" and ravi.state.code == "IN-TN",
        "state as a record with code and name",
    )
    check(ravi.birth_date == "2000-08-15", "birth date as yyyy-mm-dd")
    check(
        [(c.name, c.value) for c in ravi.custom_fields]
        == [("Graduation Year", roster.CustomValue.NUMBER("2020"))],
        "custom value under the defined name",
    )
    subscriptions = admin.user_subscriptions(ravi.id)
    check(
        subscriptions.count == 1 and subscriptions.items[0].expires == "2099-12-31",
        "the membership is a subscription with its expiry",
    )
    check(
        [b.name for b in admin.user_batches(ravi.id).items] == ["UPSC Morning Batch"],
        "the user's batches",
    )

    # A generated password is returned once and queued for the host.
    meena = admin.create_user(
        roster.NewUser(username="meena", profile=roster.ProfileInput(email="meena@example.com")),
        roster.CreateOptions(auto_generate_password=True),
    )
    check(bool(meena.generated_password), "a generated password is returned once")
    expect_error(RosterError.Forbidden, admin.take_outbox, "only the operator takes the outbox")
    outbox = institute.operator().take_outbox()
    check(
        {m.channel for m in outbox} == {roster.Channel.EMAIL, roster.Channel.SMS}
        and len(outbox) == 2
        and all((meena.generated_password or "missing") in m.body for m in outbox),
        "credentials queued for email and SMS",
    )

    # The REST facade, authenticated like a server.
    auth = {"Authorization": "JWT " + login.token, "Content-Type": "application/json"}
    response = institute.handle(
        "POST", "/api/v2.5/admin/batches/", auth, json.dumps({"name": "Evening Batch"})
    )
    check(response.status == 201, f"REST batch created: {response.status} {response.body}")
    response = institute.handle(
        "POST",
        "/api/v2.5/admin/users/",
        auth,
        json.dumps(
            {
                "username": "lorem",
                "password": "ipsum1$",
                "email": "test@example.com",
                "batches": ["Evening Batch"],
                "custom_fields": {"Graduation Year": 2019},
            }
        ),
    )
    check(response.status == 201, f"REST user created: {response.status} {response.body}")
    lorem = json.loads(response.body or "null")
    check(lorem["custom_fields"] == {"Graduation Year": 2019}, "REST answer in the documented shape")
    check(
        admin.get_user(lorem["id"]).username == "lorem",
        "a user created through handle is seen by typed calls",
    )
    response = institute.handle("GET", "/api/v2.5/admin/users/?q=RAVI", auth)
    check(
        response.status == 200 and json.loads(response.body or "null")["count"] == 1,
        "a user created by typed calls is listed through handle",
    )
    response = institute.handle("GET", "/api/v2.5/admin/users/")
    check(
        response.status == 401 and "WWW-Authenticate" in response.headers,
        "handle without credentials is 401",
    )
    # Two spellings of one header: a dict has no first, so neither is taken.
    twice = {"Authorization": "JWT " + login.token, "authorization": "JWT " + "0" * 64}
    response = institute.handle("GET", "/api/v2.5/admin/users/", twice)
    check(
        response.status == 400 and "differ only in case" in (response.body or ""),
        f"a header sent twice is refused: {response.status} {response.body}",
    )
    response = institute.handle(
        "POST",
        "/api/v2.5/auth-token/",
        {},
        json.dumps({"username": "lorem", "password": "ipsum1$"}),
    )
    check(
        response.status == 200 and len(json.loads(response.body or "null")["token"]) == 64,
        "sign-in through handle",
    )

    # A form can check as it goes, without writing.
    problems = admin.check_new_user(roster.NewUser(username="Ravi", password="x"))
    check(
        set(problems) == {"username", "password"}
        and problems["username"] == ["A user with that username already exists."],
        f"check_new_user: {problems}",
    )
    check(
        admin.check_user_patch(ravi.id, roster.UserPatch(profile=roster.ProfileInput(zip="12345")))
        .get("zip") is not None,
        "check_user_patch",
    )

    # A validation error carries every field's messages at once.
    before = admin.list_users().count
    e = expect_error(
        RosterError.Validation,
        lambda: admin.create_user(
            roster.NewUser(
                username="RAVI",
                password="123456",
                profile=roster.ProfileInput(
                    email="not-an-email",
                    custom_fields=[
                        roster.NamedCustomInput(
                            name="Graduation Year", value=roster.CustomInput.TEXT("soon")  # type: ignore[arg-type]
                        )
                    ],
                ),
                batches=["No Such Batch"],
            )
        ),
        "an invalid user is a validation error",
    )
    if e is not None:
        check(isinstance(e, r.RosterError), "every kind is a RosterError")
        check(e.code == "validation_failed", "validation code")
        check(
            e.fields.get("username") == ["A user with that username already exists."],
            f"username message: {e.fields}",
        )
        check(
            e.fields.get("custom_fields") == ["Graduation Year: A valid number is required."],
            f"custom field message, flattened: {e.fields}",
        )
        check({"email", "password", "batches"} <= set(e.fields), f"every field: {e.fields}")
        check(str(e) == e.message and "code=" not in str(e), f"str(e) is the message: {e}")
        check(str(e).startswith("invalid input: "), f"a readable message: {e}")
    check(admin.list_users().count == before, "a refused create writes nothing")

    # The other kinds.
    e = expect_error(RosterError.NotFound, lambda: admin.get_user(99999), "an unknown id")
    check(e is not None and e.code == "not_found" and str(e) == "Not found.", "not_found")
    wrong = expect_error(
        RosterError.Unauthenticated,
        lambda: institute.login("admin", "wrong password"),
        "a wrong password",
    )
    unknown = expect_error(
        RosterError.Unauthenticated,
        lambda: institute.login("nobody", "wrong password"),
        "an unknown user",
    )
    check(
        wrong is not None
        and unknown is not None
        and str(wrong) == str(unknown) == "Unable to log in with provided credentials."
        and wrong.code == "unauthenticated",
        "one answer for every failed sign-in",
    )
    expect_error(
        RosterError.Unauthenticated,
        lambda: institute.session("00" * 32),
        "an unknown token",
    )
    student = institute.session(institute.login("ravi", "ravi-pass1").token)
    e = expect_error(RosterError.Forbidden, student.list_users, "a student lists users")
    check(e is not None and e.code == "forbidden", "forbidden code")
    check(student.me().email == "ravi@example.com", "self-service needs only a session")
    # The store file is opened shared: a second handle, as another process
    # would, sees the first one's commits.
    second = r.Institute.open_shared(path, FAST)
    check(
        second.operator().find_user("ravi") == institute.operator().find_user("ravi"),
        "a second handle on the file sees the same users",
    )
    del second

    # Calls block and the objects are thread-safe: readers on threads.
    results = []

    def read():
        results.append(admin.list_users(roster.UserQuery(q="e")).count)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(len(results) == 4 and len(set(results)) == 1, f"concurrent reads: {results}")
    return login.token


def second_run(path, token):
    """Reopens the store file and finds the data of the first run."""
    institute = r.Institute.open(path, FAST)
    operator = institute.operator()
    users = operator.list_users()
    check(
        [u.username for u in users.items] == ["admin", "ravi", "meena", "lorem"],
        f"users survive a reopen: {[u.username for u in users.items]}",
    )
    check(
        [b.name for b in operator.list_batches().items] == ["UPSC Morning Batch", "Evening Batch"],
        "batches survive a reopen",
    )
    lorem = operator.get_user(operator.find_user("test@example.com"))
    check(
        [b.name for b in operator.user_batches(lorem.id).items] == ["Evening Batch"],
        "memberships survive a reopen",
    )
    check(
        institute.session(token).me().username == "admin",
        "a session survives a reopen",
    )
    feed = operator.changes_since(0, 1000)
    check(
        [c.entity for c in feed.changes][:1] == [roster.Entity.USER] and not feed.more,
        "the change feed survives a reopen, from the first user on",
    )
    check(
        all(c.record is None or "argon2" not in c.record for c in feed.changes),
        "no password hash in the change feed",
    )
    check(operator.changes_since(feed.next, 10).changes == [], "nothing after the last entry")
    check(institute.check_integrity() == [], "the store is consistent")


def no_takeover():
    """SPEC A7 through the binding: a staff member holding only view and
    change user cannot set the password of one who holds more."""
    institute = r.Institute.in_memory(FAST)
    operator = institute.operator()

    def staff(name, permissions):
        return operator.create_user(
            roster.NewUser(
                username=name,
                password=PASSWORD,
                access=roster.AccessInput(is_staff=True, user_permissions=permissions),
            )
        ).user.id

    staff("weak", [1, 3])
    strong = staff("strong", [1, 3, 8])
    weak = institute.session(institute.login("weak", PASSWORD).token)
    e = expect_error(
        RosterError.Forbidden,
        lambda: weak.update_user(strong, roster.UserPatch(password="taken-over-9")),
        "a weaker admin sets a stronger one's password",
    )
    check(
        e is not None
        and e.code == "forbidden"
        and str(e) == "You do not have permission to perform this action.",
        f"the permission error: {e}",
    )
    check(institute.login("strong", PASSWORD).user == strong, "the password is unchanged")
    expect_error(RosterError.Forbidden, lambda: weak.unlock_user(strong), "unlock")
    renamed = weak.update_user(strong, roster.UserPatch(profile=roster.ProfileInput(first_name="S")))
    check(renamed.first_name == "S", "profile fields stay editable")
    weak.sign_out()
    expect_error(RosterError.Unauthenticated, weak.me, "signed out")
def config_and_import_options():
    """The core's checked shapes: out-of-range settings are validation
    errors (never a crash), and import honours batches and expires."""
    e = expect_error(
        RosterError.Validation,
        lambda: r.Institute.in_memory(
            roster.Config(
                argon2=roster.Argon2Params(m_kib=64, t=1, p=1),
                session_lifetime_seconds=2**63 - 1,
                lockout_seconds=-1,
            )
        ),
        "a huge session lifetime is a validation error",
    )
    if e is not None:
        check(
            {"session_lifetime_seconds", "lockout_seconds"} <= set(e.fields),
            f"both fields named: {e.fields}",
        )
    institute = r.Institute.in_memory(FAST)
    operator = institute.operator()
    operator.create_batch(roster.BatchInput(name="X"))
    report = operator.import_users(
        "username,password\nravi,ravi-pass-1\n",
        roster.ImportOptions(batches=["X"], expires="2099-01-31"),
    )
    check(report.created == 1, f"imported: {report}")
    subs = operator.user_subscriptions(operator.find_user("ravi")).items
    check(
        [(s.batch.name, str(s.expires)) for s in subs] == [("X", "2099-01-31")],
        f"import joined the batch until expires: {subs}",
    )


def sunbird():
    """The Sunbird lifecycle through the typed API: an organisation, terms,
    a user read masked, a managed user with a token, roles, search, block."""
    institute = r.Institute.in_memory(FAST)
    institute.create_superuser("admin", PASSWORD)
    admin = institute.session(institute.login("admin", PASSWORD).token)
    org = admin.create_organisation(
        roster.OrgInput(name="Springfield", org_type="board", channel="springfield", is_tenant=True)
    )
    check(admin.organisation(org).channel == "springfield", "typed organisation")
    listed = admin.search_organisations()
    check(listed.count == 1 and listed.content[0].id == org, f"organisations listed: {listed}")
    tenants = admin.search_organisations(
        roster.OrgSearch(
            filters=roster.Filters(
                all=[roster.Filter(key="channel", condition=roster.Condition.ANY_OF(["SPRINGFIELD"]))]  # type: ignore[arg-type]
            ),
            offset=1,
        )
    )
    check(tenants.count == 1 and tenants.content == [], f"organisations filtered and paged: {tenants}")
    admin.set_system_setting("tncConfig", json.dumps({"latestVersion": "v1"}))
    asha = admin.sunbird_create(
        roster.SunbirdInput(
            first_name="Asha",
            last_name="Nair",
            email="asha.nair@example.com",
            phone="9876543210",
            password="asha-pass-123",
            channel="springfield",
            language=["ml", "en"],
        ),
        roster.CreateRoute.CREATE,
    )
    view = admin.sunbird_read(asha)
    check(view.email == "as*******@example.com", "a Sunbird read masks the email")
    check(view.phone == "******3210", "and the phone")
    check(view.prompt_tnc, "new terms are to be accepted")
    check(view.root_org is not None and view.root_org.id == org, "the channel's organisation")
    me = institute.session(institute.login("asha.nair@example.com", "asha-pass-123").token)
    me.accept_terms("v1")
    check(not admin.sunbird_read(asha).prompt_tnc, "accepted terms prompt no more")
    kid = me.sunbird_create(
        roster.SunbirdInput(first_name="Kiran", managed_by=asha), roster.CreateRoute.MANAGED
    )
    managed = me.managed_users(asha, with_tokens=True)
    managed_token = (managed[0].token or "") if managed else ""
    check(
        len(managed) == 1 and managed[0].view.user_id == kid and len(managed_token) == 64,
        "the manager lists its managed user with a token",
    )
    child = me.acting_for(managed_token)
    check(child.sunbird_read(kid).user_id == kid, "the manager acts as its managed user")
    expect_error(
        r.RosterError, lambda: admin.acting_for(managed_token), "only the manager may act for it"
    )
    token = me.sunbird_managed_token(kid)
    check(
        token is not None and me.acting_for(token).sunbird_read(kid).user_id == kid,
        "a read's managed token acts as the managed user",
    )
    check(admin.sunbird_managed_token(kid) is None, "no managed token for anyone but the manager")
    admin.change_roles(
        asha, [roster.RoleChange(role="ORG_ADMIN", operation=roster.RoleOperation.ADD, scope=[org])]
    )
    found = admin.sunbird_search(
        roster.SearchRequest(
            filters=roster.Filters(
                all=[roster.Filter(key="language", condition=roster.Condition.ANY_OF(["ML"]))]  # type: ignore[arg-type]
            ),
            query="nair",
        )
    )
    check(found.count == 1 and found.content[0].user_id == asha, "search on the indexes")
    check([g.role for g in found.content[0].side.roles] == ["ORG_ADMIN"], "roles with scope")
    e = expect_error(
        r.RosterError,
        lambda: admin.sunbird_create(roster.SunbirdInput(email="x@example.com"), roster.CreateRoute.CREATE),
        "a Sunbird create without a first name is refused",
    )
    check(e is not None and "firstName" in str(e), "with the reference's words")
    admin.sunbird_block(asha)
    expect_error(r.RosterError, lambda: me.sunbird_read(asha), "a blocked user's session ends")
    admin.sunbird_unblock(asha)
    check(admin.sunbird_read(asha).status == 1, "unblocked")
    check(institute.check_integrity() == [], "the store is sound")


def secrets_never_print():
    """Records that carry a password or a token print `<redacted>` in its
    place (repr, str, f-strings, lists of them); the field itself holds it."""
    secret = "Hunter2-Secret-Pass"

    def hidden(value, what):
        texts = [repr(value), str(value), f"{value}", str([value])]
        check(
            all(secret not in t and "<redacted>" in t for t in texts),
            f"{what} prints no secret: {texts[0]}",
        )

    hidden(roster.NewUser(username="ravi", password=secret), "NewUser")
    hidden(roster.UserPatch(password=secret), "UserPatch")
    hidden(roster.SunbirdInput(first_name="Asha", password=secret), "SunbirdInput")
    check("username: Some(\"ravi\")" in repr(roster.NewUser(username="ravi")), "other fields print")
    check(roster.NewUser(password=secret).password == secret, "the field keeps the password")

    institute = r.Institute.in_memory(FAST)
    institute.create_superuser("admin", secret)
    login = institute.login("admin", secret)
    secret = login.token
    hidden(login, "Login")
    sign_in = institute.handle(
        "POST",
        "/api/v2.5/auth-token/",
        {"Content-Type": "application/json"},
        '{"username": "admin", "password": "Hunter2-Secret-Pass"}',
    )
    secret = json.loads(sign_in.body or "null")["token"]
    hidden(sign_in, "HttpResponse")
    check(sign_in.status == 200 and "200" in repr(sign_in), "the status prints")
    admin = institute.session(login.token)
    created = admin.create_user(
        roster.NewUser(username="meena", profile=roster.ProfileInput(email="meena@example.com")),
        roster.CreateOptions(auto_generate_password=True),
    )
    secret = created.generated_password or "missing"
    hidden(created, "Created")
    check("meena" in repr(created), "a created user's view prints")
    # Records without secrets keep their plain dataclass text.
    check(repr(roster.BatchInput(name="B")).startswith("BatchInput("), "plain records as before")


def main():
    try:
        secrets_never_print()
        no_takeover()
        sunbird()
        config_and_import_options()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "school.redb")
            token = first_run(path)
            # Every Institute and Admin object of the first run is gone now;
            # the file closes with the last of them.
            gc.collect()
            second_run(path, token)
        check(r.schema_version() >= 1, "schema version")
    except Exception as e:  # noqa: BLE001 - an unexpected error fails the run
        check(False, f"unexpected {type(e).__name__}: {e}")
        traceback.print_exc()
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
