// A page's program against the installed npm package, typechecked with
// `tsc --strict` under `lib: ["es2022", "dom"]` (tests/npm/package.sh): the
// package's default types (pkg/web, the browser build with its `init`) and
// the Worker client (`@roster-admin/roster/client`). Never run: the browser
// test runs the example page on the same installed files.
import init, { Institute, RosterError, type Page, type User } from "@roster-admin/roster";
import { RosterClient, isRosterError, type RemoteAdmin } from "@roster-admin/roster/client";

export async function inPage(): Promise<string[]> {
  await init();
  const school = Institute.inMemory({ pageSize: 20 });
  try {
    school.login("nobody", "x");
  } catch (e: unknown) {
    if (e instanceof RosterError && e.code === "unauthenticated") {
      console.log(e.message, e.fields);
    }
  }
  const page: Page<User> = school.operator().listUsers({ withBatches: true });
  return page.results.map((u) => u.username);
}

export async function throughTheWorker(): Promise<number> {
  const roster = await RosterClient.start({ name: "school", lockWaitMs: 1000 });
  const { token } = await roster.login("admin", "a-long-passphrase");
  const admin: RemoteAdmin = roster.session(token);
  const page = await admin.listUsers({ q: "ravi" });
  const code = await admin.getUser(999).then(
    () => null,
    (e: unknown) => (isRosterError(e) ? e.code : null),
  );
  await roster.close();
  return code === "not_found" ? page.count : -1;
}
