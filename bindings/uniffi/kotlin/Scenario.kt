// The shared facade scenario (tests/conformance/scenario.json) through the UniFFI binding,
// with a small JSON reader/writer (the Kotlin standard library has none).

import java.io.File
import uniffi.tandem_uniffi.Engine
import uniffi.tandem_uniffi.TandemException

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
    is String -> "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\""
    is List<*> -> v.joinToString(",", "[", "]") { toJson(it) }
    is Map<*, *> -> v.entries.joinToString(",", "{", "}") { toJson(it.key) + ":" + toJson(it.value) }
    else -> toJson(v.toString())
}

/** Structural equality of parsed JSON (object key order does not matter). */
fun same(a: Any?, b: Any?): Boolean = when {
    a is Map<*, *> && b is Map<*, *> -> a.size == b.size && a.all { (k, v) -> b.containsKey(k) && same(v, b[k]) }
    a is List<*> && b is List<*> -> a.size == b.size && a.indices.all { same(a[it], b[it]) }
    a is Double && b is Double -> a == b
    else -> a == b
}

fun errorName(e: TandemException): String =
    e::class.simpleName!!.replace(Regex("([a-z])([A-Z])"), "$1_$2").lowercase()

fun runScenario(path: String): Int {
    @Suppress("UNCHECKED_CAST")
    val steps = (JsonReader(File(path).readText()).value() as Map<String, Any?>)["steps"] as List<Map<String, Any?>>
    val e = Engine(null)
    for ((i, step) in steps.withIndex()) {
        val call = step["call"] as String
        @Suppress("UNCHECKED_CAST")
        val a = step["args"] as Map<String, Any?>
        fun s(k: String) = a[k] as String
        var got: Any? = null
        var error: String? = null
        try {
            got = when (call) {
                "create_domain" -> { e.createDomain(s("namespace"), s("domain"), false, true); null }
                "domains" -> e.domains()
                "create_collection" -> { e.createCollection(s("namespace"), s("domain"), s("collection")); null }
                "collections" -> e.collections(s("namespace"), s("domain"))
                "create_user" -> { e.createUser(s("namespace"), s("domain"), s("username"), a["password"] as String?, ""); null }
                "users" -> e.users(s("namespace"), s("domain"))
                "set_password" -> { e.setPassword(s("namespace"), s("domain"), s("username"), s("password")); null }
                "create_model" -> e.createModel(s("namespace"), s("domain"), s("collection"), toJson(a["data"]), a["model_id"] as String?)
                "apply" -> e.apply(s("namespace"), s("domain"), s("model_id"), toJson(a["changes"])).toDouble()
                "model_json" -> JsonReader(e.modelJson(s("namespace"), s("domain"), s("model_id"), (a["version"] as Double?)?.toULong())).value()
                "delete_model" -> { e.deleteModel(s("namespace"), s("domain"), s("model_id")); null }
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
    return steps.size
}
