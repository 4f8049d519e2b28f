// A program a new user writes against the installed npm package, in Node.
// tests/npm/package.sh copies it into a scratch project outside the
// repository, compiles it with `tsc --strict` (lib es2022, types node; the
// package's `node` condition: pkg/node, CommonJS) and runs it. Every name
// below comes from `@roster-admin/roster` as installed, nothing from the
// repository. Exits non-zero, saying why, when a step does not answer as
// documented.
import {
  Institute,
  RosterError,
  type HttpResponse,
  type LinkedPage,
  type Page,
  type RosterErrorCode,
  type SunbirdView,
  type TestpressUser,
  type User,
} from "@roster-admin/roster";

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}

/** The RosterError `f` throws; anything else (or nothing thrown) fails. */
function rosterError(f: () => unknown): RosterError {
  try {
    f();
  } catch (e: unknown) {
    if (e instanceof RosterError) return e;
    throw e;
  }
  throw new Error("no RosterError was thrown");
}

// Options are camelCase (mKib, lockoutSeconds, withBatches, ...).
const school = Institute.inMemory({ argon2: { mKib: 64, t: 1, p: 1 }, lockoutSeconds: 600 });
school.createSuperuser("admin", "Adm1n-Pass!");
const { token } = school.login("admin", "Adm1n-Pass!");
const admin = school.session(token);
admin.createBatch({ name: "UPSC Morning Batch" });

// Testpress data keep the documents' snake_case names (first_name, date_joined).
const { user } = admin.createUser({
  username: "ravi",
  password: "Ravi-Pass-1",
  first_name: "Ravi",
  email: "ravi@example.com",
  batches: ["UPSC Morning Batch"],
});
const page: Page<User> = admin.listUsers({ q: "rav", withBatches: true });
check(page.count === 1 && page.results[0]?.first_name === "Ravi", "listUsers finds ravi");
check(typeof page.results[0]?.date_joined === "string", "a user has date_joined");

// A REST path, answered in process.
const reply: HttpResponse = school.handle("GET", "/api/v2.5/admin/users/?q=rav", { Authorization: `JWT ${token}` }, null);
check(reply.status === 200, `GET /api/v2.5/admin/users/ answers 200, not ${reply.status}`);
const listed = JSON.parse(reply.body ?? "null") as LinkedPage<TestpressUser>;
check(listed.results.map((u) => u.username).join() === "ravi", "the REST answer lists ravi");

// Errors: a class a catch can test, with a typed code and the fields.
const invalid = rosterError(() => admin.updateUser(user.id, { zip: "012345" }));
const code: RosterErrorCode = invalid.code;
check(code === "validation_failed", `updateUser with a bad PIN code: ${code}`);
check(Array.isArray(invalid.fields["zip"]), "the error names the field zip");
check(invalid instanceof Error && invalid.name === "RosterError", "a RosterError is an Error named RosterError");
check(rosterError(() => school.login("admin", "wrong-pass")).code === "unauthenticated", "a wrong password");
check(rosterError(() => admin.getUser(999)).code === "not_found", "an unknown user");

// Sunbird data are camelCase, as in their documents (firstName, userId).
const org = admin.createOrganisation({ name: "Springfield", orgType: "board", channel: "springfield", isTenant: true });
const asha = admin.sunbirdCreate({ firstName: "Asha", password: "asha-pass-123", channel: "springfield", email: "asha@example.com" }, "create");
const view: SunbirdView = admin.sunbirdRead(asha);
check(view.firstName === "Asha" && view.userId === asha, "sunbirdRead answers in camelCase");
check(admin.organisation(org).channel === "springfield", "organisation(id)");

admin.free();
school.free();
console.log("npm package, Node: in-memory institute, a user, a REST path, RosterError codes: ok");
