// An app-like flow through roster's generated Kotlin bindings (roster-ffi),
// run on the JVM against the built library by tests/bindings/kotlin/run.sh.
// Prints each failed expectation and a closing `N passed, N failed` line;
// exits 1 when any expectation failed.

import java.nio.file.Files
import java.time.Instant
import kotlin.concurrent.thread
import kotlin.system.exitProcess
import uniffi.roster.Argon2Params
import uniffi.roster.BatchInput
import uniffi.roster.Config
import uniffi.roster.CustomFieldInput
import uniffi.roster.CustomInput
import uniffi.roster.CustomValue
import uniffi.roster.Entity
import uniffi.roster.FieldKind
import uniffi.roster.ImportOptions
import uniffi.roster.NamedCustomInput
import uniffi.roster.NewUser
import uniffi.roster.ProfileInput
import uniffi.roster.Condition
import uniffi.roster.CreateOptions
import uniffi.roster.CreateRoute
import uniffi.roster.Filter
import uniffi.roster.Filters
import uniffi.roster.OrgInput
import uniffi.roster.OrgSearch
import uniffi.roster.RoleChange
import uniffi.roster.RoleOperation
import uniffi.roster.SearchRequest
import uniffi.roster.SunbirdInput
import uniffi.roster.UserPatch
import uniffi.roster.UserQuery
import uniffi.roster_ffi.Institute
import uniffi.roster_ffi.RosterException

var passed = 0
var failed = 0

fun check(condition: Boolean, what: String) {
    if (condition) {
        passed++
    } else {
        failed++
        System.err.println("FAILED: $what")
    }
}

/** Runs [call], expecting it to throw [T]; returns the exception. */
inline fun <reified T : Throwable> expectError(what: String, call: () -> Unit): T? {
    try {
        call()
    } catch (e: Throwable) {
        check(e is T, "$what: threw ${e::class.simpleName}: ${e.message}")
        return e as? T
    }
    check(false, "$what: nothing thrown")
    return null
}

// Cheap argon2 parameters: the same code path, a fraction of the cost.
val fast = Config(argon2 = Argon2Params(mKib = 64u, t = 1u, p = 1u))
const val PASSWORD = "a-long-passphrase"

/** Opens a new store file and fills it; returns the admin's token. */
fun firstRun(path: String): String {
    Institute.open(path, fast).use { institute ->
        val adminId = institute.createSuperuser("admin", PASSWORD)
        val login = institute.login("admin", PASSWORD)
        check(login.user == adminId, "the login names the superuser")
        check(login.expires.isAfter(Instant.now()), "the session expires in the future")
        institute.session(login.token).use { admin ->
            // Typed calls: a batch, a custom field, a user in the batch.
            val morning = admin.createBatch(BatchInput(name = "UPSC Morning Batch"))
            check(morning.name == "UPSC Morning Batch" && !morning.isLocal, "typed batch")
            val year = admin.createCustomField(CustomFieldInput(name = "Graduation Year", kind = "number"))
            check(year.kind == FieldKind.NUMBER, "typed custom field")
            val created = admin.createUser(
                NewUser(
                    username = "ravi",
                    password = "ravi-pass1",
                    profile = ProfileInput(
                        email = "ravi@example.com",
                        firstName = "Ravi",
                        state = "IN-TN",
                        customFields = listOf(NamedCustomInput("graduation year", CustomInput.Number("2020"))),
                    ),
                    batches = listOf("upsc morning batch"),
                    expires = "2099-12-31",
                ),
            )
            val ravi = created.user
            check(ravi.state?.name == "Tamil Nadu", "state as a record: ${ravi.state}")
            check(
                ravi.customFields.map { it.name to it.value } ==
                    listOf("Graduation Year" to CustomValue.Number("2020")),
                "custom value under the defined name: ${ravi.customFields}",
            )
            val subscriptions = admin.userSubscriptions(ravi.id)
            check(subscriptions.items.single().expires == "2099-12-31", "a subscription with its expiry")

            // The REST facade, authenticated like a server.
            val auth = mapOf("Authorization" to "JWT ${login.token}", "Content-Type" to "application/json")
            var response = institute.handle("POST", "/api/v2.5/admin/batches/", auth, """{"name": "Evening Batch"}""")
            check(response.status.toInt() == 201, "REST batch: ${response.status} ${response.body}")
            response = institute.handle(
                "POST",
                "/api/v2.5/admin/users/",
                auth,
                """{"username": "lorem", "password": "ipsum1$", "email": "test@example.com", "batches": ["Evening Batch"]}""",
            )
            check(response.status.toInt() == 201, "REST user: ${response.status} ${response.body}")
            val loremId = Regex("\"id\":(\\d+)").find(response.body ?: "")?.groupValues?.get(1)?.toULong()
            check(loremId != null && admin.getUser(loremId).username == "lorem", "typed calls see the REST user")
            response = institute.handle("GET", "/api/v2.5/admin/users/?q=ravi", auth, null)
            check(
                response.status.toInt() == 200 && response.body!!.contains("\"count\":1"),
                "handle lists the typed user: ${response.body}",
            )
            response = institute.handle("GET", "/api/v2.5/admin/users/", emptyMap(), null)
            check(response.status.toInt() == 401, "handle without credentials is 401")

            // A validation error carries every field's messages at once.
            val before = admin.listUsers(UserQuery()).count
            val e = expectError<RosterException.Validation>("an invalid user") {
                admin.createUser(
                    NewUser(
                        username = "RAVI",
                        password = "123456",
                        profile = ProfileInput(
                            email = "not-an-email",
                            customFields = listOf(NamedCustomInput("Graduation Year", CustomInput.Text("soon"))),
                        ),
                    ),
                )
            }
            if (e != null) {
                check(e.code == "validation_failed", "validation code")
                check(
                    e.fields["username"] == listOf("A user with that username already exists."),
                    "username message: ${e.fields}",
                )
                check(
                    e.fields["custom_fields"] == listOf("Graduation Year: A valid number is required."),
                    "custom field message, flattened: ${e.fields}",
                )
                check(e.fields.keys.containsAll(listOf("email", "password")), "every field: ${e.fields}")
                check(e.message == e.detail && e.message!!.startsWith("invalid input: "), "human message: ${e.message}")
                check(e.toString() == e.message, "toString is the message: $e")
            }
            check(admin.listUsers(UserQuery()).count == before, "a refused create writes nothing")

            // The other kinds.
            val missing = expectError<RosterException.NotFound>("an unknown id") { admin.getUser(99999u) }
            check(missing?.message == "Not found." && missing.code == "not_found", "not_found")
            val wrong = expectError<RosterException.Unauthenticated>("a wrong password") {
                institute.login("admin", "wrong password")
            }
            val unknown = expectError<RosterException.Unauthenticated>("an unknown user") {
                institute.login("nobody", "wrong password")
            }
            check(
                wrong?.message == "Unable to log in with provided credentials." && unknown?.message == wrong.message,
                "one answer for every failed sign-in",
            )
            institute.session(institute.login("ravi", "ravi-pass1").token).use { student ->
                val denied = expectError<RosterException.Forbidden>("a student lists users") {
                    student.listUsers(UserQuery())
                }
                check(denied?.code == "forbidden", "forbidden code")
                check(student.me().username == "ravi", "self-service needs only a session")
            }

            // Calls block and the objects are thread-safe: readers on threads.
            val counts = java.util.concurrent.ConcurrentLinkedQueue<ULong>()
            (1..4).map { thread { counts.add(admin.listUsers(UserQuery(q = "e")).count) } }.forEach { it.join() }
            check(counts.size == 4 && counts.toSet().size == 1, "concurrent reads: $counts")
        }
        return login.token
    }
}

/** Reopens the store file and finds the data of the first run. */
fun secondRun(path: String, token: String) {
    Institute.open(path, fast).use { institute ->
        institute.operator().use { operator ->
            val users = operator.listUsers(UserQuery()).items.map { it.username }
            check(users == listOf("admin", "ravi", "lorem"), "users survive a reopen: $users")
            val batches = operator.listBatches(null).items.map { it.name }
            check(batches == listOf("UPSC Morning Batch", "Evening Batch"), "batches survive a reopen: $batches")
            val lorem = operator.findUser("test@example.com")
            check(operator.userBatches(lorem).items.map { it.name } == listOf("Evening Batch"), "memberships survive")
            val feed = operator.changesSince(0uL, 1000u)
            check(!feed.more && feed.changes.first().entity == Entity.USER, "the change feed survives a reopen")
            check(feed.changes.none { it.record?.contains("argon2") == true }, "no password hash in the change feed")
            check(operator.changesSince(feed.next, 10u).changes.isEmpty(), "nothing after the last entry")
        }
        institute.session(token).use { admin -> check(admin.me().username == "admin", "a session survives") }
        check(institute.checkIntegrity().isEmpty(), "the store is consistent")
    }
}

/** The core's checked shapes: out-of-range settings are validation errors
 *  (never a crash), and import honours batches and expires. */
fun configAndImportOptions() {
    val e = expectError<RosterException.Validation>("a huge session lifetime") {
        Institute.inMemory(fast.copy(sessionLifetimeSeconds = Long.MAX_VALUE, lockoutSeconds = -1L)).close()
    }
    check(e?.fields?.keys?.containsAll(listOf("session_lifetime_seconds", "lockout_seconds")) == true, "fields named: ${e?.fields}")
    Institute.inMemory(fast).use { institute ->
        institute.operator().use { operator ->
            operator.createBatch(BatchInput(name = "X"))
            val report = operator.importUsers("username,password\nravi,ravi-pass-1\n", ImportOptions(batches = listOf("X"), expires = "2099-01-31"))
            check(report.created == 1uL, "imported: $report")
            val subs = operator.userSubscriptions(operator.findUser("ravi")).items.map { it.batch.name to it.expires }
            check(subs == listOf("X" to "2099-01-31"), "import joined the batch until expires: $subs")
        }
    }
}

/** The Sunbird lifecycle through the typed API. */
fun sunbird() {
    Institute.inMemory(fast).use { institute ->
        institute.createSuperuser("admin", PASSWORD)
        institute.session(institute.login("admin", PASSWORD).token).use { admin ->
            val org = admin.createOrganisation(OrgInput(name = "Springfield", orgType = "board", channel = "springfield", isTenant = true))
            val listed = admin.searchOrganisations()
            check(listed.count == 1uL && listed.content.single().id == org, "organisations listed: $listed")
            val tenants = admin.searchOrganisations(
                OrgSearch(filters = Filters(all = listOf(Filter(key = "isTenant", condition = Condition.AnyOf(listOf("true"))))), offset = 1uL),
            )
            check(tenants.count == 1uL && tenants.content.isEmpty(), "organisations filtered and paged: $tenants")
            admin.setSystemSetting("tncConfig", "{\"latestVersion\":\"v1\"}")
            val asha = admin.sunbirdCreate(
                SunbirdInput(firstName = "Asha", lastName = "Nair", email = "asha.nair@example.com", phone = "9876543210", password = "asha-pass-123", channel = "springfield"),
                CreateRoute.CREATE,
            )
            val view = admin.sunbirdRead(asha)
            check(view.email == "as*******@example.com" && view.phone == "******3210", "a Sunbird read masks: ${view.email} ${view.phone}")
            check(view.promptTnc && view.rootOrg?.id == org, "terms to accept, in the channel's organisation")
            institute.session(institute.login("asha.nair@example.com", "asha-pass-123").token).use { me ->
                me.acceptTerms("v1")
                check(!admin.sunbirdRead(asha).promptTnc, "accepted")
                val kid = me.sunbirdCreate(SunbirdInput(firstName = "Kiran", managedBy = asha), CreateRoute.MANAGED)
                val managed = me.managedUsers(asha, true)
                check(managed.size == 1 && managed[0].view.userId == kid && managed[0].token?.length == 64, "managed list with a token")
            }
            admin.changeRoles(asha, listOf(RoleChange(role = "ORG_ADMIN", operation = RoleOperation.ADD, scope = listOf(org))))
            val found = admin.sunbirdSearch(
                SearchRequest(filters = Filters(all = listOf(Filter(key = "roles.role", condition = Condition.AnyOf(listOf("org_admin"))))), query = "nair"),
            )
            check(found.count == 1uL && found.content[0].userId == asha, "search on the indexes: $found")
            val e = expectError<RosterException.Validation>("a Sunbird create without a first name") {
                admin.sunbirdCreate(SunbirdInput(email = "x@example.com"), CreateRoute.CREATE)
            }
            check(e?.message?.contains("firstName") == true, "with the reference's words: ${e?.message}")
            admin.sunbirdBlock(asha)
            expectError<RosterException.Validation>("a blocked user reads as blocked") { admin.sunbirdRead(asha) }
            admin.sunbirdUnblock(asha)
            check(admin.sunbirdRead(asha).status == 1.toUByte(), "unblocked")
        }
        check(institute.checkIntegrity().isEmpty(), "the store is sound")
    }
}

/** Records that carry a password or a token print `<redacted>` in its place. */
fun secretsNeverPrint() {
    val secret = "Hunter2-Secret-Pass"
    fun hidden(value: Any, what: String, hide: String = secret) {
        val texts = listOf(value.toString(), "$value", listOf(value).toString())
        check(texts.all { !it.contains(hide) && it.contains("<redacted>") }, "$what prints no secret: ${texts[0]}")
    }
    hidden(NewUser(username = "ravi", password = secret), "NewUser")
    hidden(UserPatch(password = secret), "UserPatch")
    hidden(SunbirdInput(firstName = "Asha", password = secret), "SunbirdInput")
    check(NewUser(password = secret).password == secret, "the field keeps the password")
    Institute.inMemory(fast).use { institute ->
        institute.createSuperuser("admin", secret)
        val login = institute.login("admin", secret)
        hidden(login, "Login", login.token)
        val signIn = institute.handle(
            "POST", "/api/v2.5/auth-token/", mapOf("Content-Type" to "application/json"),
            """{"username": "admin", "password": "$secret"}""",
        )
        val token = Regex("\"token\":\\s*\"([0-9a-f]+)\"").find(signIn.body!!)!!.groupValues[1]
        hidden(signIn, "HttpResponse", token)
        check(signIn.status.toInt() == 200 && signIn.toString().contains("200"), "the status prints")
        institute.session(login.token).use { admin ->
            val created = admin.createUser(
                NewUser(username = "meena", profile = ProfileInput(email = "meena@example.com")),
                CreateOptions(autoGeneratePassword = true),
            )
            hidden(created, "Created", created.generatedPassword ?: "missing")
            check(created.toString().contains("meena"), "a created user's view prints")
        }
    }
    check(BatchInput(name = "B").toString().startsWith("BatchInput("), "plain records as before")
}

fun main() {
    val dir = Files.createTempDirectory("roster-kotlin")
    try {
        secretsNeverPrint()
        configAndImportOptions()
        sunbird()
        val path = dir.resolve("school.redb").toString()
        val token = firstRun(path)
        // Every Institute and Admin of the first run is closed: the file is free.
        secondRun(path, token)
    } catch (e: Throwable) {
        check(false, "unexpected ${e::class.qualifiedName}: $e")
        e.printStackTrace()
    } finally {
        dir.toFile().deleteRecursively()
    }
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
