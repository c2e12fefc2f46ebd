// The Kotlin side of the UniFFI binding: facade calls, typed errors, events through the
// callback interface, use after shutdown, and the listener. Exits non-zero on any failure.

import java.net.Socket
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import uniffi.tandem_uniffi.Engine
import uniffi.tandem_uniffi.EventListener
import uniffi.tandem_uniffi.TandemException

var passed = 0
var failed = 0

fun check(cond: Boolean, what: String) {
    if (!cond) throw AssertionError(what)
}

inline fun <reified E : TandemException> expect(what: String, block: () -> Unit) {
    try {
        block()
    } catch (e: TandemException) {
        check(e is E, "$what: expected ${E::class.simpleName}, got ${e::class.simpleName}: ${e.message}")
        check(!e.message.isNullOrEmpty(), "$what: the error carries the engine's message")
        return
    }
    throw AssertionError("$what: expected ${E::class.simpleName}, nothing was thrown")
}

fun test(name: String, body: () -> Unit) {
    try {
        body()
        passed++
        println("ok   $name")
    } catch (t: Throwable) {
        failed++
        println("FAIL $name: $t")
    }
}

fun main() {
    test("models, changes and history") {
        Engine().use { e ->
            e.createDomain("acme", "docs")
            check(e.domains() == listOf(listOf("acme", "docs")), "domains: ${e.domains()}")
            e.createCollection("acme", "docs", "notes")
            check(e.collections("acme", "docs").contains("notes"), "collections")
            val id = e.createModel("acme", "docs", "notes", """{"text":"hi","n":1,"tags":["a"]}""", modelId = "n1")
            check(id == "n1", "model id $id")
            val v = e.apply(
                "acme", "docs", "n1",
                """[{"op":"splice","path":["text"],"index":2,"insert":" 😀"},
                    {"op":"add","path":["n"],"delta":41},
                    {"op":"insert","path":["tags"],"index":1,"value":{"k":true}}]""",
            )
            check(v == 2UL, "version after apply: $v")
            val now = e.modelJson("acme", "docs", "n1")
            check(now.contains("\"text\":\"hi 😀\"") && now.contains("\"n\":42") &&
                now.contains("\"tags\":[\"a\",{\"k\":true}]"), "current data: $now")
            val then = e.modelJson("acme", "docs", "n1", version = 1UL)
            check(then.contains("\"text\":\"hi\"") && then.contains("\"n\":1") &&
                then.contains("\"tags\":[\"a\"]"), "data at version 1: $then")
            val generated = e.createModel("acme", "docs", "notes", "{}")
            check(generated.length == 36, "generated id $generated")
            e.deleteModel("acme", "docs", generated)
            expect<TandemException.NotFound>("deleted model") { e.modelJson("acme", "docs", generated) }
        }
    }

    test("typed errors leave state intact; use after shutdown") {
        val e = Engine()
        e.createDomain("a", "b")
        e.createModel("a", "b", "c", """{"t":"x"}""", modelId = "m")
        expect<TandemException.AlreadyExists>("domain twice") { e.createDomain("a", "b") }
        expect<TandemException.InvalidOperation>("splice past the end") {
            e.apply("a", "b", "m", """{"op":"splice","path":["t"],"index":9,"insert":"y"}""")
        }
        expect<TandemException.InvalidArgument>("unknown op") { e.apply("a", "b", "m", """{"op":"fly"}""") }
        expect<TandemException.InvalidArgument>("changes not JSON") { e.apply("a", "b", "m", "{nope") }
        expect<TandemException.InvalidArgument>("data not JSON") { e.createModel("a", "b", "c", "[1,") }
        expect<TandemException.NotFound>("missing model") { e.apply("a", "b", "nope", "[]") }
        expect<TandemException.Config>("misspelt config field") { Engine("""{"data_dri":"/tmp/x"}""") }
        val data = e.modelJson("a", "b", "m")
        check(data == """{"t":"x"}""", "state intact: $data")
        e.shutdown()
        e.shutdown() // idempotent
        expect<TandemException.Unavailable>("after shutdown") { e.createDomain("x", "y") }
        expect<TandemException.Unavailable>("domains after shutdown") { e.domains() }
        e.close()
    }

    test("users and keys") {
        Engine().use { e ->
            e.createDomain("a", "b")
            e.createUser("a", "b", "bob", password = "pw", displayName = "Bob")
            e.setPassword("a", "b", "bob", "pw2")
            check(e.users("a", "b") == listOf("bob"), "users")
            expect<TandemException.NotFound>("password of nobody") { e.setPassword("a", "b", "nobody", "x") }
            expect<TandemException.InvalidArgument>("bad pem") { e.addJwtKey("a", "b", "k1", "not a pem") }
            e.setAnonymous("a", "b", true)
        }
    }

    test("events through the callback interface") {
        Engine().use { e ->
            e.createDomain("a", "b")
            e.createModel("a", "b", "c", """{"n":0}""", modelId = "m")
            val got = CopyOnWriteArrayList<String>()
            val two = CountDownLatch(2)
            val listener = object : EventListener {
                override fun onEvent(eventJson: String) {
                    got.add(eventJson)
                    two.countDown()
                }
            }
            val sub = e.subscribe(namespace = "a", domain = "b", listener = listener)
            e.apply("a", "b", "m", """{"op":"add","path":["n"],"delta":1}""")
            e.apply("a", "b", "m", """{"op":"add","path":["n"],"delta":1}""")
            check(two.await(5, TimeUnit.SECONDS), "two events within 5 s, got ${got.size}")
            sub.unsubscribe()
            check(got.all { it.contains("\"type\":\"operation_applied\"") }, "types: $got")
            check(got[0].contains("\"version\":2") && got[1].contains("\"version\":3"), "versions: $got")
            check(got[0].contains("\"model\":\"m\"") && got[0].contains("\"namespace\":\"a\""), "event: ${got[0]}")
            e.apply("a", "b", "m", """{"op":"add","path":["n"],"delta":1}""")
            Thread.sleep(200)
            check(got.size == 2, "no event after unsubscribe: $got")

            // One model's events; Kotlin's close() (AutoCloseable) also ends a subscription.
            val one = CountDownLatch(1)
            val last = CopyOnWriteArrayList<String>()
            val sub2 = e.subscribe(modelId = "m", listener = object : EventListener {
                override fun onEvent(eventJson: String) {
                    last.add(eventJson)
                    one.countDown()
                }
            })
            e.apply("a", "b", "m", """{"op":"add","path":["n"],"delta":5}""")
            check(one.await(5, TimeUnit.SECONDS), "model event within 5 s")
            sub2.close()
            check(last[0].contains("\"version\":5") && last[0].contains("\"NumberAdd\""), "event: ${last[0]}")
            e.apply("a", "b", "m", """{"op":"add","path":["n"],"delta":1}""")
            Thread.sleep(200)
            check(last.size == 1, "no event after close: $last")
            expect<TandemException.InvalidArgument>("namespace without domain") {
                e.subscribe(namespace = "a", listener = listener)
            }
        }
    }

    test("listener returns its address and serves /health") {
        Engine().use { e ->
            e.createDomain("demo", "default", anonymousAuth = true)
            val addr = e.listen("127.0.0.1:0")
            val (host, port) = addr.split(":")
            check(port.toInt() > 0, "bound port in $addr")
            expect<TandemException.AlreadyExists>("listen twice") { e.listen("127.0.0.1:0") }
            expect<TandemException.InvalidArgument>("bad address") {
                Engine().use { other -> other.listen("not an address") }
            }
            Socket(host, port.toInt()).use { s ->
                s.soTimeout = 5000
                s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".toByteArray())
                val reply = s.getInputStream().readBytes().decodeToString()
                check(reply.startsWith("HTTP/1.1 200"), "health reply: ${reply.take(80)}")
            }
            e.stopListening()
            e.shutdown()
        }
    }

    test("the shared facade scenario (tests/conformance/scenario.json)") {
        val n = runScenario("tests/conformance/scenario.json")
        check(n > 20, "scenario steps: $n")
    }

    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}
