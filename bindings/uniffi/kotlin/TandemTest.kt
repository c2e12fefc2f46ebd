// The Kotlin side of the UniFFI binding, through the handles Engine → Domain → Model →
// Subscription: suspend calls, typed changes, events and errors, the Flow of events, exact
// JSON text with unpaired surrogates, the listener, and the shared scenario. Runs against
// tandem.jar only (plus JNA and kotlinx-coroutines). Exits non-zero on any failure.

import java.io.File
import java.net.Socket
import java.nio.charset.CharacterCodingException
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import uniffi.tandem_uniffi.*

var passed = 0
var failed = 0

fun check(cond: Boolean, what: String) {
    if (!cond) throw AssertionError(what)
}

suspend inline fun <reified E : TandemException> expect(what: String, block: suspend () -> Unit) {
    try {
        block()
    } catch (e: TandemException) {
        check(e is E, "$what: expected ${E::class.simpleName}, got ${e::class.simpleName}: ${e.message}")
        check(!e.message.isNullOrEmpty(), "$what: the error carries the engine's message")
        return
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing was thrown")
}

fun test(name: String, body: suspend () -> Unit) {
    try {
        runBlocking { withTimeout(60_000) { body() } }
        passed++
        println("ok   $name")
    } catch (t: Throwable) {
        failed++
        println("FAIL $name: $t")
    }
}

fun key(name: String) = PathSegment.Key(name)

/** The calling thread's Linux thread id (JNA gives each callback a new Java Thread object). */
fun nativeThread(): String = File("/proc/thread-self").canonicalPath

/** Whether two JSON texts hold the same value (object key order aside). */
fun sameJson(a: String, b: String) = same(JsonReader(a).value(), JsonReader(b).value())

fun main() {
    test("undo and redo: suspend calls returning the outcome; the history marks them") {
        Engine().use { e ->
            val d = e.createDomain("acme", "undo")
            val m = d.createModel("notes", """{"t":"ab"}""", id = "u1")
            val ann = UserId(UserKind.NORMAL, "ann")
            m.applyAs(listOf(Change.Splice(listOf(key("t")), 2, 0, "cd")), ann)
            m.apply(listOf(Change.Splice(listOf(key("t")), 0, 0, ">")))
            val out = m.undo(UndoScope.LastOf(ann), null)
            check(out == UndoOutcome.Undone(4UL, listOf(2UL)), "undo outcome: $out")
            check(sameJson(m.json(), """{"t":">ab"}"""), "after undo: ${m.json()}")
            check(m.history(4UL, 4UL)[0].undoes == listOf(2UL), "undo marked")
            val redo = m.redo(UndoScope.Version(4UL), ann)
            check(redo is UndoOutcome.Undone, "redo outcome: $redo")
            check(sameJson(m.json(), """{"t":">abcd"}"""), "after redo: ${m.json()}")
            check(m.history(5UL, 5UL)[0].user == ann, "redo recorded for ann")
            val none = m.undo(UndoScope.Since(UserId(UserKind.NORMAL, "nobody"), 1UL), null)
            check(none == UndoOutcome.NothingToUndo, "nothing to undo: $none")
            expect<TandemException.InvalidArgument>("a version past the head") { m.undo(UndoScope.Version(99UL), null) }
        }
    }

    test("models, typed changes, history") {
        Engine().use { e ->
            val d = e.createDomain("acme", "docs")
            check(d.namespace() == "acme" && d.id() == "docs", "domain handle")
            check(e.domains() == listOf(DomainId("acme", "docs")), "domains: ${e.domains()}")
            d.createCollection("notes")
            check(d.collections() == listOf("notes"), "collections: ${d.collections()}")
            val m = d.createModel("notes", """{"text":"hi","n":1,"tags":["a"]}""", id = "n1")
            check(m.id() == "n1", "model id ${m.id()}")
            val v = m.apply(listOf(
                Change.Splice(listOf(key("text")), 2, 0, " 😀"),
                Change.Add(listOf(key("n")), 41.0),
                Change.Insert(listOf(key("tags")), 1, """{"k":true}"""),
            ))
            check(v == 2UL, "version after apply: $v")
            check(sameJson(m.json(), """{"text":"hi 😀","n":42,"tags":["a",{"k":true}]}"""), "current data: ${m.json()}")
            check(sameJson(m.jsonAt(1UL), """{"text":"hi","n":1,"tags":["a"]}"""), "data at version 1: ${m.jsonAt(1UL)}")
            val bob = UserId(UserKind.NORMAL, "bob")
            m.applyAs(listOf(
                Change.Remove(listOf(key("tags"), PathSegment.Index(0UL))),
                Change.Set(listOf(key("title")), "\"T\""),
            ), bob)
            check(sameJson(m.json(), """{"text":"hi 😀","n":42,"tags":[{"k":true}],"title":"T"}"""), "after applyAs: ${m.json()}")
            val info = m.info()
            check(info.version == 3UL && info.collection == "notes" && info.id == "n1", "info: $info")
            val h = m.history(2UL, 3UL)
            check(h.map { it.version } == listOf(2UL, 3UL), "history versions: $h")
            check(h[0].user == UserId(UserKind.CONVERGENCE, "tandem-host"), "host author: ${h[0].user}")
            check(h[1].user == bob, "applyAs author: ${h[1].user}")
            check(h[0].operationJson.contains("\"StringSplice\"") || h[0].operationJson.contains("Splice"), "operation: ${h[0].operationJson}")
            check(m.versionAt(h[1].timestampMs) == 3UL, "version at the last change's time")
            check(d.model("n1").id() == "n1", "model handle by id")
            check(d.models().map { it.id } == listOf("n1") && d.models("other").isEmpty(), "models: ${d.models()}")
            val generated = d.createModel("notes", "{}")
            check(generated.id().length == 36, "generated id ${generated.id()}")
            generated.delete()
            expect<TandemException.NotFound>("deleted model") { generated.json() }
            expect<TandemException.NotFound>("deleted model by id") { d.model(generated.id()) }
            e.deleteDomain("acme", "docs")
            check(e.domains().isEmpty(), "domain deleted")
        }
    }

    test("typed errors leave state intact; use after shutdown") {
        val e = Engine()
        val d = e.createDomain("a", "b")
        val m = d.createModel("c", """{"t":"x"}""", id = "m")
        expect<TandemException.AlreadyExists>("domain twice") { e.createDomain("a", "b") }
        expect<TandemException.InvalidArgument>("bad namespace") { e.createDomain("bad/ns", "x") }
        expect<TandemException.NotFound>("missing domain") { e.domain("no", "pe") }
        expect<TandemException.NotFound>("missing model") { d.model("nope") }
        expect<TandemException.InvalidOperation>("splice past the end") {
            m.apply(listOf(Change.Splice(listOf(key("t")), 9, 0, "y")))
        }
        expect<TandemException.InvalidArgument>("value not JSON") { m.apply(listOf(Change.Set(listOf(key("t")), "{nope"))) }
        expect<TandemException.InvalidArgument>("unknown op") { m.applyJson("""{"op":"fly"}""") }
        expect<TandemException.InvalidArgument>("changes not JSON") { m.applyJson("{nope") }
        expect<TandemException.InvalidArgument>("data not JSON") { d.createModel("c", "[1,") }
        expect<TandemException.Config>("misspelt config field") { Engine(configJson = """{"data_dri":"/tmp/x"}""") }
        check(m.json() == """{"t":"x"}""", "state intact: ${m.json()}")
        val pending = m.subscribe()
        e.shutdown()
        check(withTimeout(5_000) { pending.events().toList() }.isEmpty(), "shutdown completes a Flow of events")
        e.shutdown() // idempotent
        expect<TandemException.Unavailable>("create after shutdown") { e.createDomain("x", "y") }
        expect<TandemException.Unavailable>("domains after shutdown") { e.domains() }
        expect<TandemException.Unavailable>("old model handle after shutdown") { m.json() }
        e.close()
    }

    test("TandemException has exactly one subclass per engine error code") {
        val codes = errorCodes()
        check(codes.map { it.number } == (1..codes.size).toList(), "numbered in order: $codes")
        val subclasses = TandemException::class.java.declaredClasses
            .filter { TandemException::class.java.isAssignableFrom(it) }
            .map { it.simpleName }.sorted()
        check(subclasses == codes.map { it.className }.sorted(), "subclasses $subclasses vs codes $codes")
        for (c in codes) {
            val snake = c.className.replace(Regex("([a-z])([A-Z])"), "$1_$2").lowercase()
            check(snake == c.name, "${c.className} is ${c.name}")
        }
    }

    test("users and keys") {
        Engine().use { e ->
            val d = e.createDomain("a", "b")
            val bob = d.createUser(NewUser("bob", password = "pw", displayName = "Bob"))
            check(bob.username == "bob" && bob.displayName == "Bob" && bob.hasPassword && !bob.disabled, "user: $bob")
            d.createUser(NewUser("carol"))
            d.setPassword("bob", "pw2")
            check(d.users().map { it.username } == listOf("bob", "carol"), "users: ${d.users()}")
            check(!d.users()[1].hasPassword, "carol has no password")
            expect<TandemException.AlreadyExists>("user twice") { d.createUser(NewUser("bob")) }
            expect<TandemException.NotFound>("password of nobody") { d.setPassword("nobody", "x") }
            d.deleteUser("carol")
            check(d.users().map { it.username } == listOf("bob"), "after delete: ${d.users()}")
            expect<TandemException.InvalidArgument>("bad pem") { d.addJwtKey(JwtKey("k1", "not a pem")) }
            check(d.jwtKeys().isEmpty(), "no keys")
            expect<TandemException.NotFound>("remove a missing key") { d.removeJwtKey("k1") }
            check(!d.settings().anonymousAuth && d.settings().collectionAutoCreate, "default settings: ${d.settings()}")
            d.setAnonymousAuth(true)
            check(d.settings().anonymousAuth, "anonymous allowed")
            d.setSettings(DomainSettings(displayName = "Docs", collectionAutoCreate = false))
            val all = listOf("create", "read", "write", "remove", "manage")
            check(d.settings() == DomainSettings("Docs", false, false, DomainState.ONLINE, 1440u, all), "settings: ${d.settings()}")
            expect<TandemException.NotFound>("no auto-created collection") { d.createModel("fresh", "{}") }
        }
    }

    test("events: a Flow of typed events, domain and model subscriptions") {
        Engine().use { e ->
            val d = e.createDomain("a", "b")
            val m = d.createModel("c", """{"n":0}""", id = "m")
            val domainSub = d.subscribe()
            val modelSub = m.subscribe()
            val got = coroutineScope {
                launch {
                    delay(100)
                    m.apply(listOf(Change.Add(listOf(key("n")), 1.0)))
                    m.apply(listOf(Change.Add(listOf(key("n")), 1.0)))
                }
                withTimeout(10_000) { modelSub.events().take(2).toList() }
            }
            check(modelSub.isUnsubscribed(), "the flow ended its subscription when take(2) stopped")
            val first = got[0] as Event.OperationApplied
            val second = got[1] as Event.OperationApplied
            check(first.version == 2UL && second.version == 3UL, "versions: $got")
            check(first.namespace == "a" && first.domain == "b" && first.model == "m", "event: $first")
            check(first.user == UserId(UserKind.CONVERGENCE, "tandem-host") && first.session.isNotEmpty(), "who: $first")
            check(first.operationJson.contains("\"NumberAdd\""), "operation: ${first.operationJson}")
            val fromDomain = withTimeout(10_000) { domainSub.events().take(2).toList() }
            check(fromDomain == got, "the domain subscription saw the same events: $fromDomain")
        }
    }

    test("subscription: unsubscribe wakes a waiting next(); cancelling a wait loses no event") {
        Engine().use { e ->
            val d = e.createDomain("a", "b")
            val m = d.createModel("c", """{"n":0}""", id = "m")
            coroutineScope {
                val sub = m.subscribe()
                check(withTimeoutOrNull(200) { sub.next() } == null, "nothing yet")
                m.apply(listOf(Change.Add(listOf(key("n")), 1.0)))
                val ev = withTimeout(10_000) { sub.next() }
                check((ev as Event.OperationApplied).version == 2UL, "the event after a cancelled wait: $ev")
                check(sub.tryNext() == null, "no more waiting")
                check(sub.nextBlocking(50UL) == null, "nextBlocking times out")
                val waiting = async { sub.next() }
                delay(100)
                sub.unsubscribe()
                check(withTimeout(5_000) { waiting.await() } == null, "unsubscribe woke the waiting next()")
                check(sub.next() == null, "ended for good")
                m.apply(listOf(Change.Add(listOf(key("n")), 1.0)))
                check(sub.tryNext() == null, "no event after unsubscribe")
            }
            val sub2 = m.subscribe()
            val woken = CountDownLatch(1)
            val blocked = Thread {
                if (sub2.nextBlocking(null) == null) woken.countDown()
            }.apply { start() }
            Thread.sleep(100)
            sub2.unsubscribe()
            check(woken.await(5, TimeUnit.SECONDS), "unsubscribe from another thread woke nextBlocking")
            blocked.join()
        }
    }

    test("onEvent delivers typed events on the engine's callback thread") {
        Engine().use { e ->
            val m = e.createDomain("a", "b").createModel("c", """{"n":0}""", id = "m")
            val sub = m.subscribe()
            val got = CopyOnWriteArrayList<Pair<Event, String>>()
            val two = CountDownLatch(2)
            sub.onEvent(object : EventListener {
                override fun onEvent(event: Event) {
                    got.add(event to nativeThread())
                    two.countDown()
                }
            })
            m.apply(listOf(Change.Add(listOf(key("n")), 1.0)))
            m.apply(listOf(Change.Add(listOf(key("n")), 1.0)))
            check(two.await(5, TimeUnit.SECONDS), "two events within 5 s, got ${got.size}")
            check(got.map { (it.first as Event.OperationApplied).version } == listOf(2UL, 3UL), "in order: $got")
            val threads = got.map { it.second }.toSet()
            check(threads.size == 1 && nativeThread() !in threads, "one engine-owned thread, not the caller's: $threads")
            sub.unsubscribe()
        }
    }

    test("unpaired surrogates survive exact JSON text both ways") {
        Engine().use { e ->
            val d = e.createDomain("a", "b")
            val sub = d.subscribe()
            val m = d.createModel("c", """{"t":"a\ud800b","\udc00":1}""", id = "s")
            val text = m.json()
            check(text.contains("\"a\\ud800b\"") && text.contains("\"\\udc00\":1"), "escapes kept: $text")
            @Suppress("UNCHECKED_CAST")
            val parsed = JsonReader(text).value() as Map<String, Any?>
            check(parsed["t"] == "a\uD800b" && parsed.containsKey("\uDC00"), "a Kotlin string holds the lone surrogate")
            m.applyJson("""{"op":"splice","path":["t"],"index":3,"insert":"\ude01"}""")
            check(m.json().contains("\"a\\ud800b\\ude01\""), "after splice: ${m.json()}")
            val created = withTimeout(10_000) { sub.next() }
            check(created == Event.ModelCreated("a", "b", "s", "c"), "the creation comes first: $created")
            val ev = withTimeout(10_000) { sub.next() } as Event.OperationApplied
            check(ev.operationJson.contains("\\ude01"), "the event's operation is exact: ${ev.operationJson}")
            check(m.history(2UL, 2UL)[0].operationJson.contains("\\ude01"), "history is exact")
            val original = mapOf("x" to "lone \uDBFF end", "\uDC01k" to listOf("\uD83D\uDE00", "\uDE00"))
            val rt = d.createModel("c", toJson(original))
            check(same(JsonReader(rt.json()).value(), original), "Kotlin strings round-trip: ${rt.json()}")
            // A typed change cannot carry one: Kotlin's UTF-8 encoder refuses it instead of
            // changing it, and nothing is applied.
            try {
                m.apply(listOf(Change.Splice(listOf(key("t")), 0, 0, "\uD800")))
                throw AssertionError("a lone surrogate in a typed change was accepted")
            } catch (x: CharacterCodingException) {
            }
            check(m.info().version == 2UL, "nothing applied")
        }
    }

    test("a durable engine releases its data directory on close() and reopens it") {
        val dir = Files.createTempDirectory("tandem-kt").toFile()
        try {
            // Domain and model handles share the engine: close them too (or let them be
            // collected) before the directory is opened again.
            Engine(dataDir = dir.path).use { e ->
                e.createDomain("a", "b").use { d -> d.createModel("c", """{"k":"v"}""", id = "m").close() }
            }
            Engine(dataDir = dir.path).use { e ->
                e.domain("a", "b").use { d -> d.model("m").use { m -> check(m.json() == """{"k":"v"}""", "data survived") } }
            }
        } finally {
            dir.deleteRecursively()
        }
    }

    test("listener returns its address and serves /health") {
        Engine().use { e ->
            e.createDomain("demo", "default", DomainSettings(anonymousAuth = true))
            val addr = e.listen("127.0.0.1:0")
            val (host, port) = addr.split(":")
            check(port.toInt() > 0, "bound port in $addr")
            expect<TandemException.AlreadyExists>("listen twice") { e.listen("127.0.0.1:0") }
            expect<TandemException.InvalidArgument>("bad address") {
                Engine().use { other -> other.listen("not an address") }
            }
            expect<TandemException.Config>("bad net config") { Engine().use { it.listen("127.0.0.1:0", "{\"nope\":1}") } }
            Socket(host, port.toInt()).use { s ->
                s.soTimeout = 5000
                s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".toByteArray())
                val reply = s.getInputStream().readBytes().decodeToString()
                check(reply.startsWith("HTTP/1.1 200"), "health reply: ${reply.take(80)}")
            }
            check(e.stopListening(), "stopped")
            check(!e.stopListening(), "nothing left to stop")
        }
    }

    test("chats: a channel, members, posts as a member and as the host, history, ChatChanged events, a direct chat") {
        Engine().use { e ->
            val d = e.createDomain("acme", "chat")
            d.createUser(NewUser("ann"))
            val ann = UserId(UserKind.NORMAL, "ann")
            val sub = d.subscribe()
            check(d.createChat(NewChat(id = "lobby", kind = ChatKind.CHANNEL, name = "Lobby")) == "lobby", "created")
            expect<TandemException.AlreadyExists>("twice") { d.createChat(NewChat(id = "lobby", kind = ChatKind.CHANNEL)) }
            expect<TandemException.InvalidArgument>("a private room") { d.createChat(NewChat(kind = ChatKind.ROOM, private = true)) }
            expect<TandemException.NotFound>("a non-member posts") { d.postChatMessage("lobby", "early", ann) }
            d.addChatMember("lobby", ann)
            val first = d.postChatMessage("lobby", "hi from ann", ann)
            val second = d.postChatMessage("lobby", "hi from the host")
            check(second.number == first.number + 1UL, "numbers: $first $second")
            d.setChatTopic("lobby", "News")
            val info = d.chat("lobby")
            check(info != null && info.topic == "News" && info.kind == ChatKind.CHANNEL, "info: $info")
            check(info!!.members.any { it.user == ann }, "ann is a member: $info")
            check(d.chat("nope") == null, "no such chat")
            val page = d.chatHistory("lobby", ChatHistoryQuery(kinds = listOf("message"), forward = true))
            check(page.total == 2UL, "two messages: $page")
            val texts = page.events.map { (it.kind as ChatEventKind.Message).text }
            check(texts == listOf("hi from ann", "hi from the host"), "texts: $texts")
            check(page.events[1].user.kind == UserKind.CONVERGENCE, "the host posts as the host user")
            val changes = withTimeout(10_000) {
                sub.events().filterIsInstance<Event.ChatChanged>().take(4).toList()
            }
            val messages = changes.mapNotNull { ((it.change as? ChatChange.Event)?.event?.kind as? ChatEventKind.Message)?.text }
            check(messages == listOf("hi from ann", "hi from the host"), "events: $changes")
            check(changes.all { it.chatId == "lobby" }, "chat ids: $changes")
            val direct = d.directChat(listOf(ann))
            check(direct.kind == ChatKind.DIRECT && direct.members.map { it.user } == listOf(ann), "direct: $direct")
            check(d.directChat(listOf(ann, ann)).id == direct.id, "the same set answers the same chat")
            expect<TandemException.InvalidArgument>("a direct chat of nobody") { d.directChat(emptyList()) }
            d.removeChat("lobby")
            check(d.chat("lobby") == null, "removed")
        }
    }

    test("identity and permissions: typed rights, groups, generic rows, state, admin tokens") {
        Engine().use { e ->
            val d = e.createDomain("acme", "docs")
            d.createUser(NewUser("bob"))
            val bob = UserId(UserKind.NORMAL, "bob")
            val ghost = UserId(UserKind.NORMAL, "ghost")
            val m = d.createModel("notes", """{"t":"x"}""", id = "n1")
            check(d.updateUser("bob", UserProfile(displayName = "Bob")).displayName == "Bob", "profile")
            d.setUserDisabled("bob", true)
            check(d.user("bob").disabled, "disabled")
            d.setUserDisabled("bob", false)
            expect<TandemException.NotFound>("unknown user") { d.user("ghost") }

            check(d.createGroup("staff") == UserGroup("staff", "", emptyList()), "new group")
            expect<TandemException.AlreadyExists>("group twice") { d.createGroup("staff", "again") }
            d.addGroupMember("staff", bob)
            expect<TandemException.NotFound>("unknown member") { d.addGroupMember("staff", ghost) }
            d.setGroupDescription("staff", "Staff")
            check(d.groups() == listOf(UserGroup("staff", "Staff", listOf(bob))), "groups: ${d.groups()}")
            check(d.userGroups(bob) == listOf("staff"), "bob's groups")

            d.setCollectionWorld("notes", CollectionRights(read = true))
            d.setCollectionUser("notes", bob, CollectionRights(read = true, write = true))
            expect<TandemException.NotFound>("unknown collection") { d.setCollectionWorld("none", CollectionRights()) }
            expect<TandemException.NotFound>("unknown collection user") { d.setCollectionUser("notes", ghost, CollectionRights()) }
            val perms = d.collectionPermissions("notes")
            check(perms.world == CollectionRights(read = true), "world: $perms")
            check(perms.users == listOf(UserCollectionRights(bob, CollectionRights(read = true, write = true))), "users: $perms")
            check(m.rightsOf(bob) == ModelRights(read = true, write = true), "collection user: ${m.rightsOf(bob)}")
            m.setPermissions(ModelPermissionsChange(overrideWorld = true, world = ModelRights(), setUsers = listOf(UserModelRights(bob, ModelRights(read = true)))))
            check(m.permissions() == ModelPermissions(true, ModelRights(), listOf(UserModelRights(bob, ModelRights(read = true)))), "model: ${m.permissions()}")
            check(m.rightsOf(bob) == ModelRights(read = true), "model user: ${m.rightsOf(bob)}")
            check(m.rightsOf(UserId(UserKind.CONVERGENCE, "ops")) == ModelRights(true, true, true, true), "convergence user")
            d.setCollectionUser("notes", bob, null)
            check(d.collectionPermissions("notes").users.isEmpty(), "entry removed")

            val lobby = PermissionTarget.Chat("lobby")
            expect<TandemException.NotFound>("rows of a missing chat") { d.permissions(lobby) }
            d.createChat(NewChat(id = "lobby", kind = ChatKind.CHANNEL))
            d.changePermissions(lobby, PermissionChange.Add(TargetPermissions(groups = listOf(GroupPermissions("staff", listOf("join_chat"))))))
            check(d.permissions(lobby) == TargetPermissions(groups = listOf(GroupPermissions("staff", listOf("join_chat")))), "rows: ${d.permissions(lobby)}")
            check(d.resolvePermissions(lobby, bob) == listOf("join_chat"), "resolved")
            expect<TandemException.InvalidArgument>("unknown chat permission") {
                d.changePermissions(lobby, PermissionChange.Add(TargetPermissions(world = listOf("fly"))))
            }
            val doc = PermissionTarget.Activity("doc", "a1")
            d.createActivity("doc", "a1", TargetPermissions())
            d.changePermissions(doc, PermissionChange.Set(listOf("join"), emptyList(), false, emptyList(), false))
            check(d.resolvePermissions(doc, bob) == listOf("join"), "activity: ${d.resolvePermissions(doc, bob)}")
            d.deleteGroup("staff")
            expect<TandemException.NotFound>("deleted group") { d.group("staff") }

            d.setState(DomainState.MAINTENANCE)
            check(d.settings().state == DomainState.MAINTENANCE, "state: ${d.settings()}")
            expect<TandemException.InvalidArgument>("unknown default collection permission") {
                d.setSettings(DomainSettings(defaultCollectionWorld = listOf("read", "fly")))
            }
            d.setSettings(DomainSettings(reconnectTokenMinutes = 5u, defaultCollectionWorld = listOf("read")))
            val s = d.settings()
            check(s.state == DomainState.ONLINE && s.reconnectTokenMinutes == 5u && s.defaultCollectionWorld == listOf("read"), "settings: $s")
            check(Regex("[\\w-]+\\.[\\w-]+\\.[\\w-]+").matches(d.adminToken("ops", 60UL)), "admin token")
            expect<TandemException.InvalidArgument>("no lifetime") { d.adminToken("ops", 0UL) }
        }
    }

    test("activities: create, exists, participants, rows on an activity, delete, typed errors") {
        Engine().use { e ->
            val d = e.createDomain("acme", "docs")
            d.createUser(NewUser("bob"))
            val bob = UserId(UserKind.NORMAL, "bob")
            check(!d.activityExists("doc", "a1"), "no activity yet")
            d.createActivity("doc", "a1", TargetPermissions(world = listOf("join", "view_state"), users = listOf(UserPermissions(bob, listOf("manage")))))
            expect<TandemException.AlreadyExists>("activity twice") { d.createActivity("doc", "a1", TargetPermissions()) }
            expect<TandemException.InvalidArgument>("unknown activity permission") {
                d.createActivity("doc", "a2", TargetPermissions(world = listOf("fly")))
            }
            expect<TandemException.InvalidArgument>("empty activity type") { d.createActivity("", "a2", TargetPermissions()) }
            check(d.activityExists("doc", "a1"), "activity exists")
            check(d.activityParticipants("doc", "a1") == emptyList<ActivityParticipant>(), "nobody in it")
            val a1 = PermissionTarget.Activity("doc", "a1")
            check(d.permissions(a1) == TargetPermissions(listOf("join", "view_state"), listOf(UserPermissions(bob, listOf("manage"))), emptyList()), "rows: ${d.permissions(a1)}")
            check(d.resolvePermissions(a1, bob) == listOf("join", "manage", "view_state"), "bob: ${d.resolvePermissions(a1, bob)}")
            val missing = PermissionTarget.Activity("doc", "nope")
            expect<TandemException.NotFound>("rows of a missing activity") { d.permissions(missing) }
            expect<TandemException.NotFound>("change on a missing activity") {
                d.changePermissions(missing, PermissionChange.Add(TargetPermissions(world = listOf("join"))))
            }
            expect<TandemException.NotFound>("participants of a missing activity") { d.activityParticipants("doc", "nope") }
            d.deleteActivity("doc", "a1")
            check(!d.activityExists("doc", "a1"), "activity gone")
            expect<TandemException.NotFound>("delete twice") { d.deleteActivity("doc", "a1") }
            // The event an activity change arrives as is typed, its state JSON text.
            val ev: Event = Event.ActivityChanged("acme", "docs", "doc", "a1", ActivityChangeKind.DELETED, null, null, "{}")
            check((ev as Event.ActivityChanged).kind == ActivityChangeKind.DELETED && ev.session == null, "event: $ev")
        }
    }

    test("operators: administrators log in, tokens end with a new password; API keys per domain") {
        Engine().use { e ->
            check(e.admins().isEmpty(), "no administrators yet")
            val root = e.addAdmin("root", "s3cret")
            check(root.username == "root" && root.createdMs > 0, "added: $root")
            expect<TandemException.AlreadyExists>("admin twice") { e.addAdmin("root", "other") }
            check(e.admins().map { it.username } == listOf("root"), "admins: ${e.admins()}")
            expect<TandemException.Unauthenticated>("wrong password") { e.adminLogin("root", "wrong") }
            expect<TandemException.Unauthenticated>("unknown admin") { e.adminLogin("nobody", "s3cret") }
            val login = e.adminLogin("root", "s3cret")
            check(login.token.isNotEmpty() && login.expiresMs > System.currentTimeMillis(), "login expires ${login.expiresMs}")
            check(e.verifyAdminToken(login.token) == e.admins()[0], "the token's administrator")
            expect<TandemException.Unauthenticated>("altered token") { e.verifyAdminToken(login.token + "x") }
            e.setAdminPassword("root", "n3w")
            expect<TandemException.Unauthenticated>("token before the new password") { e.verifyAdminToken(login.token) }
            expect<TandemException.NotFound>("password of nobody") { e.setAdminPassword("nobody", "x") }
            e.removeAdmin("root")
            expect<TandemException.NotFound>("remove twice") { e.removeAdmin("root") }
            check(e.admins().isEmpty(), "no administrators left")

            val d = e.createDomain("acme", "docs")
            val other = e.createDomain("acme", "other")
            val created = d.createApiKey("ci", readOnly = true)
            check(created.key.name == "ci" && created.key.readOnly && created.token.isNotEmpty(), "key: ${created.key}")
            check(d.verifyApiKey(created.token) == created.key, "verified key")
            expect<TandemException.Unauthenticated>("another domain's key") { other.verifyApiKey(created.token) }
            expect<TandemException.Unauthenticated>("not a key") { d.verifyApiKey("nope") }
            val rw = d.createApiKey("deploy")
            check(!rw.key.readOnly, "read-write by default")
            check(d.apiKeys().map { it.id }.sorted() == listOf(created.key.id, rw.key.id).sorted(), "keys: ${d.apiKeys()}")
            d.revokeApiKey(created.key.id)
            expect<TandemException.Unauthenticated>("revoked key") { d.verifyApiKey(created.token) }
            expect<TandemException.NotFound>("revoke twice") { d.revokeApiKey(created.key.id) }
            check(d.apiKeys() == listOf(rw.key), "keys left: ${d.apiKeys()}")
        }
    }

    test("sessions, webhooks with a delivery, ModelCreated/ModelDeleted events, the activity list") {
        Engine(configJson = """{"webhooks":{"max_per_domain":2}}""").use { e ->
            val d = e.createDomain("acme", "docs")
            check(d.sessions().isEmpty(), "nobody connected")
            expect<TandemException.NotFound>("disconnect an unknown session") { d.disconnectSession("nope") }

            check(d.webhooks().isEmpty(), "no webhooks yet")
            expect<TandemException.InvalidArgument>("not an http URL") {
                d.addWebhook(NewWebhook("ftp://127.0.0.1/x", listOf("model.created")))
            }
            expect<TandemException.InvalidArgument>("unknown event") {
                d.addWebhook(NewWebhook("http://127.0.0.1:9/x", listOf("bogus")))
            }
            val hook = d.addWebhook(NewWebhook("http://127.0.0.1:9/x", listOf("model.created")))
            check(hook.webhook.url == "http://127.0.0.1:9/x" && hook.webhook.events == listOf("model.created"), "hook: $hook")
            check(hook.secret.isNotEmpty(), "the secret is shown once")
            check(d.webhooks() == listOf(hook.webhook), "webhooks: ${d.webhooks()}")

            val sub = d.subscribe()
            d.createModel("notes", """{"t":1}""", id = "w1")
            val created = withTimeout(10_000) { sub.events().filterIsInstance<Event.ModelCreated>().take(1).toList() }
            check(created == listOf(Event.ModelCreated("acme", "docs", "w1", "notes")), "created: $created")

            var deliveries = d.webhookDeliveries(hook.webhook.id)
            for (i in 0 until 200) {
                if (deliveries.isNotEmpty()) break
                delay(25)
                deliveries = d.webhookDeliveries(hook.webhook.id)
            }
            check(deliveries.size == 1, "deliveries: $deliveries")
            val delivery = deliveries[0]
            check(delivery.event == "model.created" && delivery.number == 1UL, "delivery: $delivery")
            check(delivery.id.startsWith(hook.webhook.id + "."), "delivery id ${delivery.id}")
            check(delivery.status == "pending" || delivery.status == "failed", "status ${delivery.status}")
            check(delivery.payload.contains("\"w1\""), "payload ${delivery.payload}")

            val deletions = d.subscribe()
            d.model("w1").delete()
            val deleted = withTimeout(10_000) { deletions.events().filterIsInstance<Event.ModelDeleted>().take(1).toList() }
            check(deleted == listOf(Event.ModelDeleted("acme", "docs", "w1", "notes")), "deleted: $deleted")

            d.addWebhook(NewWebhook("https://example.invalid/a", listOf("chat.message")))
            expect<TandemException.InvalidOperation>("more webhooks than max_per_domain") {
                d.addWebhook(NewWebhook("https://example.invalid/b", listOf("chat.message")))
            }
            d.removeWebhook(hook.webhook.id)
            expect<TandemException.NotFound>("remove twice") { d.removeWebhook(hook.webhook.id) }
            expect<TandemException.NotFound>("deliveries of a removed webhook") { d.webhookDeliveries(hook.webhook.id) }
            check(d.webhooks().map { it.url } == listOf("https://example.invalid/a"), "webhooks left: ${d.webhooks()}")

            check(d.activities().isEmpty(), "no activities yet")
            d.createActivity("board", "b2", TargetPermissions())
            d.createActivity("board", "b1", TargetPermissions(world = listOf("join")))
            val listed = d.activities()
            check(listed.map { Triple(it.activityType, it.id, it.ephemeral) } == listOf(Triple("board", "b1", false), Triple("board", "b2", false)), "activities: $listed")
            check(listed[0].createdMs > 0, "created ${listed[0].createdMs}")
            e.listen("127.0.0.1:0", """{"max_rest_body_bytes":1024}""")
            check(e.stopListening(), "the listener took max_rest_body_bytes")
        }
    }

    test("the shared facade scenario (tests/conformance/scenario.json) through the handles") {
        val n = runScenario("tests/conformance/scenario.json")
        check(n > 20, "scenario steps: $n")
    }

    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}
