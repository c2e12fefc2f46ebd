// The shared facade scenario (tests/conformance/scenario.json) through the UniFFI binding's
// handles (engine.domain(..).model(..)...), with a small JSON reader/writer (the Kotlin
// standard library has none). Changes go typed when every op has a typed form, else as JSON.

import java.io.File
import uniffi.tandem_uniffi.*

class JsonReader(private val s: String) {
    private var i = 0
    private fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }
    fun value(): Any? {
        ws()
        return when (s[i]) {
            '{' -> {
                i++
                val m = LinkedHashMap<String, Any?>()
                ws()
                while (s[i] != '}') {
                    ws(); val k = string(); ws(); i++ // ':'
                    m[k] = value(); ws()
                    if (s[i] == ',') i++
                    ws()
                }
                i++; m
            }
            '[' -> {
                i++
                val l = ArrayList<Any?>()
                ws()
                while (s[i] != ']') {
                    l.add(value()); ws()
                    if (s[i] == ',') i++
                    ws()
                }
                i++; l
            }
            '"' -> string()
            't' -> { i += 4; true }
            'f' -> { i += 5; false }
            'n' -> { i += 4; null }
            else -> {
                val start = i
                while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
                s.substring(start, i).toDouble()
            }
        }
    }
    private fun string(): String {
        val b = StringBuilder()
        i++
        while (s[i] != '"') {
            var c = s[i++]
            if (c == '\\') {
                c = s[i++]
                when (c) {
                    'n' -> c = '\n'
                    't' -> c = '\t'
                    'u' -> { c = s.substring(i, i + 4).toInt(16).toChar(); i += 4 }
                    'r' -> c = '\r'
                    'b' -> c = '\b'
                    'f' -> c = '\u000c'
                }
            }
            b.append(c)
        }
        i++
        return b.toString()
    }
}

fun toJson(v: Any?): String = when (v) {
    null -> "null"
    is Boolean -> v.toString()
    is Double -> if (v == Math.floor(v) && Math.abs(v) < 1e15) v.toLong().toString() else v.toString()
    is String -> jsonString(v)
    is List<*> -> v.joinToString(",", "[", "]") { toJson(it) }
    is Map<*, *> -> v.entries.joinToString(",", "{", "}") { toJson(it.key) + ":" + toJson(it.value) }
    else -> toJson(v.toString())
}

/** A JSON string literal; control characters and unpaired surrogates become `\uXXXX`. */
fun jsonString(v: String): String {
    val b = StringBuilder("\"")
    for ((i, c) in v.withIndex()) {
        val paired = (c.isHighSurrogate() && i + 1 < v.length && v[i + 1].isLowSurrogate()) ||
            (c.isLowSurrogate() && i > 0 && v[i - 1].isHighSurrogate())
        when {
            c == '"' -> b.append("\\\"")
            c == '\\' -> b.append("\\\\")
            c < ' ' || (c.isSurrogate() && !paired) -> b.append("\\u%04x".format(c.code))
            else -> b.append(c)
        }
    }
    return b.append('"').toString()
}

/** Structural equality of parsed JSON (object key order does not matter). */
fun same(a: Any?, b: Any?): Boolean = when {
    a is Map<*, *> && b is Map<*, *> -> a.size == b.size && a.all { (k, v) -> b.containsKey(k) && same(v, b[k]) }
    a is List<*> && b is List<*> -> a.size == b.size && a.indices.all { same(a[it], b[it]) }
    a is Double && b is Double -> a == b
    else -> a == b
}

/** The stable error name of an exception, from its class (e.g. `NotFound` -> `not_found`). */
fun errorName(e: TandemException): String =
    e::class.simpleName!!.replace(Regex("([a-z])([A-Z])"), "$1_$2").lowercase()

@Suppress("UNCHECKED_CAST")
fun typedPath(p: Any?): List<PathSegment> = (p as List<Any?>? ?: emptyList()).map {
    if (it is String) PathSegment.Key(it) else PathSegment.Index((it as Double).toLong().toULong())
}

/** A change in its typed form, or null when it has none (an unknown op). */
@Suppress("UNCHECKED_CAST")
fun typedChange(c: Map<String, Any?>): Change? {
    val path = typedPath(c["path"])
    fun int(k: String) = (c[k] as Double).toLong()
    return when (c["op"]) {
        "set" -> Change.Set(path, toJson(c["value"]))
        "insert" -> Change.Insert(path, int("index"), toJson(c["value"]))
        "remove" -> Change.Remove(path)
        "move" -> Change.Move(path, int("from"), int("to"))
        "splice" -> Change.Splice(path, int("index"), (c["delete"] as Double? ?: 0.0).toLong(), c["insert"] as String? ?: "")
        "add" -> Change.Add(path, c["delta"] as Double)
        else -> null
    }
}

@Suppress("UNCHECKED_CAST")
suspend fun apply(m: Model, changes: Any?): ULong {
    val list = if (changes is List<*>) changes as List<Map<String, Any?>> else listOf(changes as Map<String, Any?>)
    val typed = list.map { typedChange(it) }
    return if (typed.all { it != null }) m.apply(typed.map { it!! }) else m.applyJson(toJson(changes))
}

suspend fun runScenario(path: String): Int {
    @Suppress("UNCHECKED_CAST")
    val steps = (JsonReader(File(path).readText()).value() as Map<String, Any?>)["steps"] as List<Map<String, Any?>>
    val e = Engine()
    for ((i, step) in steps.withIndex()) {
        val call = step["call"] as String
        @Suppress("UNCHECKED_CAST")
        val a = step["args"] as Map<String, Any?>
        fun s(k: String) = a[k] as String
        fun domain() = e.domain(s("namespace"), s("domain"))
        fun model() = domain().model(s("model_id"))
        var got: Any? = null
        var error: String? = null
        try {
            got = when (call) {
                "create_domain" -> { e.createDomain(s("namespace"), s("domain")); null }
                "domains" -> e.domains().map { listOf(it.namespace, it.id) }
                "create_collection" -> { domain().createCollection(s("collection")); null }
                "collections" -> domain().collections()
                "create_user" -> { domain().createUser(NewUser(s("username"), password = a["password"] as String?)); null }
                "users" -> domain().users().map { it.username }
                "set_password" -> { domain().setPassword(s("username"), s("password")); null }
                "create_model" -> domain().createModel(s("collection"), toJson(a["data"]), a["model_id"] as String?).id()
                "apply" -> apply(model(), a["changes"]).toDouble()
                "model_json" -> JsonReader(
                    (a["version"] as Double?)?.let { model().jsonAt(it.toLong().toULong()) } ?: model().json(),
                ).value()
                "delete_model" -> { model().delete(); null }
                "shutdown" -> { e.shutdown(); null }
                else -> throw AssertionError("unknown call $call")
            }
        } catch (x: TandemException) {
            error = errorName(x)
        }
        val expect = step["expect"]
        if (expect is Map<*, *> && expect.containsKey("error")) {
            check(error == expect["error"], "step $i $call: expected ${expect["error"]}, got ${error ?: toJson(got)}")
        } else {
            check(error == null, "step $i $call: unexpected error $error")
            if (expect is Map<*, *> && expect.containsKey("result")) {
                check(same(got, expect["result"]), "step $i $call: got ${toJson(got)}")
            }
        }
    }
    e.close()
    return steps.size
}
