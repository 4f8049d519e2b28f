// A program typed by the declarations wasm-bindgen generates
// (bindings-wasm/pkg/node/roster_wasm.d.ts): the representations are
// declared by their Rust types (tsify), the classes by wasm-bindgen. It is
// compiled with `tsc --strict` and never run (tests/js runs the package);
// a declaration that went missing, became `any`, or changed its shape
// fails the compile. `@ts-expect-error` lines must stay errors.
import type {
  Admin,
  Config,
  ImportReport,
  Batch,
  BatchName,
  ChangeEntry,
  ChangeFeed,
  Course,
  CustomField,
  DjangoUser,
  Group,
  FieldMessages,
  Institute,
  LinkedPage,
  Login,
  ManagedEntry,
  Migrated,
  OrgSearchResult,
  SearchRequest,
  SearchResult,
  SunbirdAssignRolesV2,
  SunbirdInput,
  SunbirdRoleChange,
  SunbirdSearch,
  SunbirdUserBody,
  SunbirdUserUpdate,
  SunbirdView,
  NewUser,
  OutboxMessage,
  Page,
  Permission,
  Subscription,
  TestpressNewUser,
  TestpressUser,
  User,
  UserPatch,
} from "../../bindings-wasm/pkg/node/roster_wasm";
import { RosterError, type RosterErrorCode } from "../../bindings-wasm/pkg/node/roster_wasm";

declare const institute: Institute;
declare const admin: Admin;

function users(): string[] {
  const page: Page<User> = admin.listUsers({ q: "ravi", page: 1 });
  const next: number | null = page.next;
  const names: string[] = page.results.map((u) => `${u.id}:${u.username}:${u.state_code}`);
  const first: User | undefined = page.results[0];
  if (first) {
    // A user carries the Testpress representation and the access fields.
    const joined: string = first.date_joined;
    const staff: boolean = first.is_staff;
    const links: string[] = (first.batches ?? []).map((b) => b.url);
    const custom: string | number | undefined = first.custom_fields["Stream"];
    const photo: string | null = first.photo;
    names.push(joined, String(staff), ...links, String(custom), String(photo));
    // @ts-expect-error: a user never carries its password.
    first.password;
    // @ts-expect-error: ids are numbers.
    const wrong: string = first.id;
    void wrong;
  }
  void next;
  return names;
}

function batches(): void {
  const created: Batch = admin.createBatch({ name: "Morning" });
  const local: boolean = created.is_local;
  const mine: Page<BatchName> = admin.userBatches(1);
  const subscription: Subscription[] = admin.addUserSubscriptions(1, [created.id], "2027-01-31");
  const expires: string | null = subscription[0].expires;
  const nested: Batch = subscription[0].batch;
  void local, mine, expires, nested;
}

function catalogue(): void {
  const course: Course = admin.createCourse({ title: "Physics", slug: "physics" });
  const chapters: string = course.chapters_url;
  const field: CustomField = admin.createCustomField({ name: "Stream", type: "choice", choices: ["Arts"] });
  const kind: "text" | "number" | "date" | "choice" = field.type;
  const group: Group = admin.createGroup({ name: "Editors", permissions: [1] });
  const permissions: Permission[] = admin.permissions();
  const codename: string = permissions[0].codename;
  const outbox: OutboxMessage[] = admin.takeOutbox();
  const channel: "email" | "sms" = outbox[0].channel;
  void chapters, kind, group, codename, channel;
}

function feed(since: number): number {
  const page: ChangeFeed = admin.changesSince(since, 100);
  const first: ChangeEntry = page.results[0];
  const actor: string | null | undefined = first.actor;
  const record = first.record;
  // @ts-expect-error the record is data of unknown shape: narrow it first
  const name: string = record.name;
  void actor, name, admin.purgeChanges();
  return page.more ? page.next : -1;
}

function session(): number {
  const login: Login = institute.login("admin", "secret-password");
  const expires: string = login.expires;
  void expires;
  return login.user;
}

// The bodies: every field optional, the documented leniencies typed
// (a phone as a number, a boolean as DRF's strings, null clearing text).
function inputs(): User {
  const input: NewUser = {
    username: "ravi",
    password: "a-long-password",
    phone: 9787231006,
    is_active: "false",
    city: null,
    batches: ["Morning"],
    custom_fields: { Stream: "Arts", Year: 2026, Clear: null },
    is_staff: true,
    groups: [1],
  };
  const created = admin.createUser(input);
  const patch: UserPatch = { first_name: "Ravi", user_permissions: [] };
  // @ts-expect-error: a username is text.
  const wrong: NewUser = { username: 5 };
  // The Testpress body has no access fields.
  // @ts-expect-error: no is_superuser in a Testpress body.
  const testpress: TestpressNewUser = { username: "x", is_superuser: true };
  void wrong, testpress;
  return admin.updateUser(created.user.id, patch);
}

// The configuration and the import, declared from the core's types.
function setup(text: string): number {
  const config: Config = { pageSize: 50, argon2: { mKib: 8192, t: 1, p: 1 }, now: "2026-01-01T00:00:00Z" };
  // @ts-expect-error: the page size is a number.
  const wrong: Config = { pageSize: "50" };
  void config, wrong;
  const report: ImportReport = admin.importUsers(text, { batches: ["Morning"], chunkSize: 500 });
  return report.created + report.rejected.filter((r) => r.line > 0).length + report.rejected_count;
}

// The REST-only representations exist for hosts that parse `handle()`
// answers themselves.
function rest(body: string): string {
  const page = JSON.parse(body) as LinkedPage<TestpressUser>;
  const next: string | null = page.next;
  const django = JSON.parse(body) as DjangoUser;
  return `${next}${django.date_joined}${page.results.length}`;
}

// The Sunbird lifecycle, declared from the core's records.
function sunbird(org: number): string {
  const input: SunbirdInput = { firstName: "Asha", email: "asha@example.com", externalIds: [{ provider: "p", idType: "t", id: "1" }] };
  // @ts-expect-error: the phone is text in the typed API.
  const wrong: SunbirdInput = { phone: 98765 };
  void wrong;
  const id: string = admin.sunbirdCreate(input, "sso");
  const view: SunbirdView = admin.sunbirdRead(id, { completeness: true });
  const status: number = view.status;
  const roles: string[] = view.side.roles.map((r) => `${r.role}:${r.scope.join(",")}`);
  const search: SearchRequest = {
    filters: { all: [{ key: "roles.role", condition: { anyOf: ["ORG_ADMIN"] } }], any: [] },
    query: "asha",
    sortBy: { key: "firstName", descending: true },
  };
  const found: SearchResult = admin.sunbirdSearch(search);
  const managed: ManagedEntry[] = admin.managedUsers(id, true);
  admin.changeRoles(id, [{ role: "ORG_ADMIN", operation: "edit", scope: [org] }]);
  const byLogin: SunbirdView = admin.sunbirdReadLogin("asha@example.com", { organisations: true });
  const byPhone: SunbirdView = admin.sunbirdGet("phone", "9876543210");
  const orgs: OrgSearchResult = admin.searchOrganisations({ filters: { all: [{ key: "isTenant", condition: { anyOf: ["true"] } }], any: [] }, limit: 10 });
  const orgIds: number[] = orgs.content.map((o) => o.id);
  const claim: Migrated = admin.migrate(id, "p", true, "1");
  const left: number = typeof claim === "object" ? claim.wrongId.remaining : 0;
  // @ts-expect-error: accept is a boolean, not text.
  admin.migrate(id, "p", "yes", "1");
  const problems: FieldMessages = admin.checkNewUser({ username: "asha", password: "x" }, { autoGeneratePassword: false });
  const patchProblems: FieldMessages = admin.checkUserPatch(1, { zip: "1" });
  void [byLogin, byPhone, left, problems, patchProblems, orgIds, admin.searchOrganisations()];
  return `${status}${roles.length}${found.count}${managed.map((m) => m.token ?? "").join("")}`;
}

// The Sunbird request bodies (`{"request": ...}`), declared from the
// structs the REST surface reads them with: camelCase keys, the seed's
// spellings and leniencies.
function sunbirdBodies(): number {
  const create: SunbirdUserBody = {
    firstname: "Asha",
    lastName: "K",
    phone: 9876543210,
    emailVerified: "true",
    language: "English",
    externalIds: { id: "1", provider: "p", idType: "t" },
    profileUserTypes: [{ type: "teacher" }, { type: "administrator", subType: "deo" }],
    framework: { board: ["CBSE"] },
  };
  const update: SunbirdUserUpdate = { userId: "u1", firstName: "Asha", profileLocation: [{ code: "29", type: "state" }] };
  const search: SunbirdSearch = {
    filters: {
      "roles.role": ["ORG_ADMIN"],
      firstName: { startsWith: "As" },
      createdDate: { ">=": "2020-01-01", "<": "2021-01-01" },
      $or: [{ email: "asha@example.com" }, { phone: 98765 }],
    },
    query: "asha",
    fields: ["firstName", "userId"],
    sort_by: { createdDate: "desc" },
    limit: 20,
    offset: "0",
  };
  const roles: SunbirdAssignRolesV2 = {
    userId: "u1",
    roles: [{ role: "ORG_ADMIN", operation: "edit", scope: [{ organisationId: "7" }, { organisationId: 8 }] }],
  };
  // @ts-expect-error: a search's limit is a number or its digits.
  const wrongLimit: SunbirdSearch = { filters: {}, limit: [20] };
  // @ts-expect-error: a role change is added, removed or edited.
  const wrongOperation: SunbirdRoleChange = { role: "ORG_ADMIN", operation: "grant" };
  // @ts-expect-error: verified is a boolean or its spelling.
  const wrongFlag: SunbirdUserBody = { emailVerified: 1 };
  void wrongLimit, wrongOperation, wrongFlag;
  const headers = { "content-type": "application/json", "x-authenticated-user-token": "t" };
  const answers = [
    institute.handle("POST", "/api/user/v1/create", headers, JSON.stringify({ request: create })),
    institute.handle("PATCH", "/api/user/v1/update", headers, JSON.stringify({ request: update })),
    institute.handle("POST", "/api/user/v3/search", headers, JSON.stringify({ request: search })),
    institute.handle("POST", "/api/user/v2/role/assign", headers, JSON.stringify({ request: roles })),
  ];
  return answers.filter((a) => a.status === 200).length;
}

// A thrown error is tested with `instanceof RosterError`, which narrows it.
function errors(): string {
  try {
    institute.login("nobody", "x");
  } catch (e: unknown) {
    if (e instanceof RosterError) {
      const code: RosterErrorCode = e.code;
      const first: string[] | Record<string, string[]> | undefined = e.fields["username"];
      const base: Error = e;
      return `${code}:${e.name}:${String(first)}:${base.message}`;
    }
  }
  // @ts-expect-error: only roster makes a RosterError.
  void new RosterError();
  return "";
}

export { users, batches, catalogue, feed, session, inputs, setup, rest, sunbird, sunbirdBodies, errors };
