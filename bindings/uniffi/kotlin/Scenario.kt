// The shared facade scenario (tests/conformance/scenario.json) through the UniFFI binding's
// handles (engine.domain(..).model(..)...), with a small JSON reader/writer (the Kotlin
// standard library has none). Changes go typed when every op has a typed form, else as JSON;
// users, rights and permission rows go as the binding's records.

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

// The scenario's JSON forms of the identity and permission records, both ways: users are
// {"kind", "name"}, rights are objects of booleans (absent ones false), pairs are 2-arrays.

@Suppress("UNCHECKED_CAST")
fun obj(v: Any?): Map<String, Any?> = (v ?: emptyMap<String, Any?>()) as Map<String, Any?>

@Suppress("UNCHECKED_CAST")
fun list(v: Any?): List<Any?> = (v ?: emptyList<Any?>()) as List<Any?>

@Suppress("UNCHECKED_CAST")
fun strings(v: Any?): List<String> = list(v) as List<String>

fun pairs(v: Any?): List<List<Any?>> = list(v).map { list(it) }

fun flag(m: Map<String, Any?>, k: String) = m[k] as Boolean? ?: false

fun userId(v: Any?) = obj(v).let { UserId(UserKind.valueOf((it["kind"] as String).uppercase()), it["name"] as String) }

fun modelRights(v: Any?) = obj(v).let { ModelRights(flag(it, "read"), flag(it, "write"), flag(it, "remove"), flag(it, "manage")) }

fun collectionRights(v: Any?) = obj(v).let {
    CollectionRights(flag(it, "create"), flag(it, "read"), flag(it, "write"), flag(it, "remove"), flag(it, "manage"))
}

fun modelChange(v: Any?) = ModelPermissionsChange().apply {
    val m = obj(v)
    overrideWorld = m["override_world"] as Boolean?
    world = m["world"]?.let { modelRights(it) }
    replaceUsers = flag(m, "replace_users")
    setUsers = pairs(m["set_users"]).map { UserModelRights(userId(it[0]), modelRights(it[1])) }
    removeUsers = list(m["remove_users"]).map { userId(it) }
}

fun target(v: Any?): PermissionTarget = obj(v).let {
    when (it["kind"]) {
        "global" -> PermissionTarget.Global
        "chat" -> PermissionTarget.Chat(it["id"] as String)
        "activity" -> PermissionTarget.Activity(it["type"] as String, it["id"] as String)
        else -> throw AssertionError("no target kind in $it")
    }
}

fun userRows(v: Any?) = pairs(v).map { UserPermissions(userId(it[0]), strings(it[1])) }
fun groupRows(v: Any?) = pairs(v).map { GroupPermissions(it[0] as String, strings(it[1])) }
fun rows(v: Any?) = obj(v).let { TargetPermissions(strings(it["world"]), userRows(it["users"]), groupRows(it["groups"])) }

fun permissionChange(v: Any?): PermissionChange = obj(v).let { m ->
    when {
        "add" in m -> PermissionChange.Add(rows(m["add"]))
        "remove" in m -> PermissionChange.Remove(rows(m["remove"]))
        else -> obj(m["set"]).let {
            PermissionChange.Set(
                it["world"]?.let { w -> strings(w) }, userRows(it["users"]), flag(it, "replace_users"),
                groupRows(it["groups"]), flag(it, "replace_groups"),
            )
        }
    }
}

fun profile(v: Any?) = obj(v).let {
    UserProfile(it["display_name"] as String?, it["first_name"] as String?, it["last_name"] as String?, it["email"] as String?)
}

fun settings(v: Any?) = DomainSettings().apply {
    val m = obj(v)
    (m["display_name"] as String?)?.let { displayName = it }
    (m["anonymous_auth"] as Boolean?)?.let { anonymousAuth = it }
    (m["collection_auto_create"] as Boolean?)?.let { collectionAutoCreate = it }
    (m["state"] as String?)?.let { state = DomainState.valueOf(it.uppercase()) }
    (m["reconnect_token_minutes"] as Double?)?.let { reconnectTokenMinutes = it.toUInt() }
    m["default_collection_world"]?.let { defaultCollectionWorld = strings(it) }
    m["snapshot_policy"]?.let { snapshotPolicy = policy(it) }
    m["collection_snapshot_policies"]?.let { p ->
        collectionSnapshotPolicies = obj(p).map { (c, v) -> CollectionSnapshotPolicy(c, policy(v)) }
    }
}

fun policy(v: Any?) = obj(v).let {
    fun flag(k: String, d: Boolean) = it[k] as Boolean? ?: d
    fun num(k: String, d: ULong) = (it[k] as Double?)?.toULong() ?: d
    SnapshotPolicy(
        flag("enabled", true), flag("trigger_by_version", true), num("max_version_interval", 1000u),
        flag("limited_by_version", false), num("min_version_interval", 0u), flag("trigger_by_time", true),
        num("max_time_interval_ms", 600000u), flag("limited_by_time", false), num("min_time_interval_ms", 0u),
    )
}

fun json(p: SnapshotPolicy) = mapOf(
    "enabled" to p.enabled, "trigger_by_version" to p.triggerByVersion,
    "max_version_interval" to p.maxVersionInterval.toDouble(), "limited_by_version" to p.limitedByVersion,
    "min_version_interval" to p.minVersionInterval.toDouble(), "trigger_by_time" to p.triggerByTime,
    "max_time_interval_ms" to p.maxTimeIntervalMs.toDouble(), "limited_by_time" to p.limitedByTime,
    "min_time_interval_ms" to p.minTimeIntervalMs.toDouble(),
)

fun json(u: UserId) = mapOf("kind" to u.kind.name.lowercase(), "name" to u.name)

/** The undo scope of a step (`{"version": n}` is the form the scenario uses). */
fun undoScope(v: Any?): UndoScope {
    @Suppress("UNCHECKED_CAST")
    val m = v as Map<String, Any?>
    val version = m["version"] as Double? ?: throw AssertionError("scenario undo scope $m")
    return UndoScope.Version(version.toLong().toULong())
}

fun json(o: UndoOutcome): Map<String, Any?> = when (o) {
    is UndoOutcome.Undone -> mapOf("outcome" to "undone", "version" to o.version.toDouble(), "undid" to o.undid.map { it.toDouble() })
    is UndoOutcome.Partial -> mapOf("outcome" to "partial", "version" to o.version.toDouble(), "undid" to o.undid.map { it.toDouble() })
    is UndoOutcome.Conflict -> mapOf("outcome" to "conflict", "versions" to o.versions.map { it.toDouble() })
    is UndoOutcome.NothingToUndo -> mapOf("outcome" to "nothing_to_undo")
    is UndoOutcome.NotUndoable -> mapOf("outcome" to "not_undoable", "reason" to o.reason)
}
fun json(r: ModelRights) = mapOf("read" to r.read, "write" to r.write, "remove" to r.remove, "manage" to r.manage)
fun json(r: CollectionRights) =
    mapOf("create" to r.create, "read" to r.read, "write" to r.write, "remove" to r.remove, "manage" to r.manage)
fun json(g: UserGroup) = mapOf("id" to g.id, "description" to g.description, "members" to g.members.map { json(it) })
fun json(p: ModelPermissions) = mapOf(
    "override_world" to p.overrideWorld, "world" to json(p.world),
    "users" to p.users.map { listOf(json(it.user), json(it.rights)) },
)
fun json(p: CollectionPermissions) =
    mapOf("world" to json(p.world), "users" to p.users.map { listOf(json(it.user), json(it.rights)) })
fun json(p: TargetPermissions) = mapOf(
    "world" to p.world,
    "users" to p.users.map { listOf(json(it.user), it.permissions) },
    "groups" to p.groups.map { listOf(it.group, it.permissions) },
)
fun json(u: User) = mapOf(
    "username" to u.username, "display_name" to u.displayName, "first_name" to u.firstName,
    "last_name" to u.lastName, "email" to u.email, "disabled" to u.disabled, "has_password" to u.hasPassword,
    "created_ms" to u.createdMs.toDouble(), "last_login_ms" to u.lastLoginMs.toDouble(),
)
fun json(s: DomainSettings): Map<String, Any?> = buildMap {
    put("display_name", s.displayName)
    put("anonymous_auth", s.anonymousAuth)
    put("collection_auto_create", s.collectionAutoCreate)
    put("state", s.state?.name?.lowercase())
    put("reconnect_token_minutes", s.reconnectTokenMinutes.toDouble())
    put("default_collection_world", s.defaultCollectionWorld)
    // Unset policies are left out, as the facade's JSON leaves them out.
    s.snapshotPolicy?.let { put("snapshot_policy", json(it)) }
    if (s.collectionSnapshotPolicies.isNotEmpty()) {
        put("collection_snapshot_policies", s.collectionSnapshotPolicies.associate { it.collection to json(it.policy) })
    }
}

// The chat records in the facade's JSON form: an event's kind is a "kind" name beside its
// fields, numbers are Doubles as the reader makes them.

fun ulong(v: Any?) = (v as Double?)?.toLong()?.toULong()

fun newChat(v: Any?) = obj(v).let {
    NewChat(
        it["id"] as String?, ChatKind.valueOf((it["kind"] as String).uppercase()), flag(it, "private"),
        it["name"] as String? ?: "", it["topic"] as String? ?: "", list(it["members"]).map { m -> userId(m) },
    )
}

fun historyQuery(v: Any?) = obj(v).let {
    ChatHistoryQuery(
        strings(it["kinds"]), it["text"] as String?, ulong(it["start"]), flag(it, "forward"),
        ulong(it["offset"]) ?: 0UL, ulong(it["limit"]) ?: 0UL,
    )
}

fun json(m: ChatMember) = mapOf("user" to json(m.user), "max_seen_event" to m.maxSeenEvent.toDouble())
fun json(c: ChatInfo) = mapOf(
    "id" to c.id, "kind" to c.kind.name.lowercase(), "private" to c.private, "name" to c.name, "topic" to c.topic,
    "created_ms" to c.createdMs.toDouble(), "last_event_number" to c.lastEventNumber.toDouble(),
    "last_event_ms" to c.lastEventMs.toDouble(), "members" to c.members.map { json(it) },
)
fun json(k: ChatEventKind): Map<String, Any?> = when (k) {
    is ChatEventKind.Created ->
        mapOf("kind" to "created", "name" to k.name, "topic" to k.topic, "members" to k.members.map { json(it) })
    is ChatEventKind.Message -> mapOf("kind" to "message", "text" to k.text)
    is ChatEventKind.UserJoined -> mapOf("kind" to "user_joined")
    is ChatEventKind.UserLeft -> mapOf("kind" to "user_left")
    is ChatEventKind.UserAdded -> mapOf("kind" to "user_added", "added" to json(k.added))
    is ChatEventKind.UserRemoved -> mapOf("kind" to "user_removed", "removed" to json(k.removed))
    is ChatEventKind.NameChanged -> mapOf("kind" to "name_changed", "name" to k.name)
    is ChatEventKind.TopicChanged -> mapOf("kind" to "topic_changed", "topic" to k.topic)
}
fun json(e: ChatEvent) = mapOf(
    "number" to e.number.toDouble(), "timestamp_ms" to e.timestampMs.toDouble(), "user" to json(e.user),
) + json(e.kind)
fun json(h: ChatHistory) =
    mapOf("events" to h.events.map { json(it) }, "offset" to h.offset.toDouble(), "total" to h.total.toDouble())

fun json(p: QueryPage) = mapOf(
    "models" to p.models.map {
        mapOf(
            "collection" to it.collection, "id" to it.id, "created_ms" to it.createdMs.toDouble(),
            "modified_ms" to it.modifiedMs.toDouble(), "version" to it.version.toDouble(),
            "data" to JsonReader(it.dataJson).value(),
        )
    },
    "offset" to p.offset.toDouble(), "total" to p.total.toDouble(),
)

/** The chat calls of a step, or null when `call` is none of them. */
suspend fun chatCall(d: Domain, call: String, a: Map<String, Any?>): Result<Any?>? {
    fun s(k: String) = a[k] as String
    val got: Any? = when (call) {
        "create_chat" -> d.createChat(newChat(a["chat"]))
        "direct_chat" -> json(d.directChat(list(a["users"]).map { userId(it) }))
        "remove_chat" -> d.removeChat(s("id"))
        "chat" -> d.chat(s("id"))?.let { json(it) }
        "chats" -> d.chats().map { json(it) }
        "add_chat_member" -> d.addChatMember(s("id"), userId(a["user"]))
        "remove_chat_member" -> d.removeChatMember(s("id"), userId(a["user"]))
        "set_chat_name" -> d.setChatName(s("id"), s("name"))
        "set_chat_topic" -> d.setChatTopic(s("id"), s("topic"))
        "post_chat_message" -> d.postChatMessage(s("id"), s("text"), a["user"]?.let { userId(it) }).let {
            mapOf("number" to it.number.toDouble(), "timestamp_ms" to it.timestampMs.toDouble())
        }
        "chat_history" -> json(d.chatHistory(s("id"), historyQuery(a["query"])))
        "query" -> json(d.query(s("query"), a["user"]?.let { userId(it) }))
        else -> return null
    }
    return Result.success(if (got == Unit) null else got)
}

/** Whether `got` matches `want` as the scenario's `like` says: an object names some of the
 * result's fields, a list has its length and matching elements, anything else is equal. */
fun like(got: Any?, want: Any?): Boolean = when {
    want is Map<*, *> -> got is Map<*, *> && want.all { (k, v) -> got.containsKey(k) && like(got[k], v) }
    want is List<*> -> got is List<*> && got.size == want.size && want.indices.all { like(got[it], want[it]) }
    else -> same(got, want)
}

/** The identity and permission calls of a step, or null when `call` is none of them. */
suspend fun accessCall(d: Domain, call: String, a: Map<String, Any?>): Result<Any?>? {
    fun s(k: String) = a[k] as String
    fun model() = d.model(s("model_id"))
    val got: Any? = when (call) {
        "user" -> json(d.user(s("username")))
        "update_user" -> json(d.updateUser(s("username"), profile(a["profile"])))
        "set_user_disabled" -> d.setUserDisabled(s("username"), a["disabled"] as Boolean)
        "create_group" -> json(d.createGroup(s("group"), s("description")))
        "set_group_description" -> d.setGroupDescription(s("group"), s("description"))
        "delete_group" -> d.deleteGroup(s("group"))
        "group" -> json(d.group(s("group")))
        "groups" -> d.groups().map { json(it) }
        "add_group_member" -> d.addGroupMember(s("group"), userId(a["user"]))
        "remove_group_member" -> d.removeGroupMember(s("group"), userId(a["user"]))
        "user_groups" -> d.userGroups(userId(a["user"]))
        "presence" -> d.presence((a["users"] as List<*>).map { userId(it) }).map {
            mapOf("user" to json(it.user), "available" to it.available, "state" to JsonReader(it.stateJson).value())
        }
        "collection_permissions" -> json(d.collectionPermissions(s("collection")))
        "set_collection_world" -> d.setCollectionWorld(s("collection"), collectionRights(a["world"]))
        "set_collection_user" -> d.setCollectionUser(s("collection"), userId(a["user"]), a["rights"]?.let { collectionRights(it) })
        "permissions" -> json(d.permissions(target(a["target"])))
        "change_permissions" -> d.changePermissions(target(a["target"]), permissionChange(a["change"]))
        "resolve_permissions" -> d.resolvePermissions(target(a["target"]), userId(a["user"]))
        "model_permissions" -> json(model().permissions())
        "set_model_permissions" -> model().setPermissions(modelChange(a["change"]))
        "rights_of" -> json(model().rightsOf(userId(a["user"])))
        "settings" -> json(d.settings())
        "set_settings" -> d.setSettings(settings(a["settings"]))
        "set_state" -> d.setState(DomainState.valueOf(s("state").uppercase()))
        "admin_token" -> d.adminToken(s("username"), (a["ttl_secs"] as Double).toLong().toULong())
        "create_activity" -> d.createActivity(s("type"), s("id"), rows(a["permissions"]))
        "delete_activity" -> d.deleteActivity(s("type"), s("id"))
        "activity_exists" -> d.activityExists(s("type"), s("id"))
        "activity_participants" -> d.activityParticipants(s("type"), s("id")).map {
            mapOf("session" to it.session, "user" to json(it.user), "state" to JsonReader(it.stateJson).value())
        }
        else -> return null
    }
    return Result.success(if (got == Unit) null else got)
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
                "undo" -> json(
                    if (a["redo"] == true) model().redo(undoScope(a["scope"]), null)
                    else model().undo(undoScope(a["scope"]), null),
                )
                "shutdown" -> { e.shutdown(); null }
                else -> (accessCall(domain(), call, a) ?: chatCall(domain(), call, a)
                    ?: throw AssertionError("unknown call $call")).getOrThrow()
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
            if (expect is Map<*, *> && expect.containsKey("like")) {
                check(like(got, expect["like"]), "step $i $call: got ${toJson(got)}")
            }
            if (expect is Map<*, *> && expect.containsKey("shape")) {
                val jwt = Regex("[\\w-]+\\.[\\w-]+\\.[\\w-]+")
                check(expect["shape"] == "jwt" && got is String && jwt.matches(got), "step $i $call: got ${toJson(got)}")
            }
        }
    }
    e.close()
    return steps.size
}
