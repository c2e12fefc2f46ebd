/* Runs the shared facade scenario (tests/conformance/scenario.json) through the C ABI's engine,
 * domain and model handles, with a minimal JSON reader/writer for the scenario file and the
 * ABI's JSON results. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem.h"

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;
typedef struct json {
  jtype type;
  double num;
  int boolean;
  char *str;          /* J_STR value */
  struct json **items; /* J_ARR / J_OBJ values */
  char **keys;        /* J_OBJ keys */
  int len;
} json;

static const char *p;

static void ws(void) { while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++; }
static json *parse_value(void);

static char *parse_string(void) {
  size_t cap = 16, n = 0;
  char *out = malloc(cap);
  p++; /* opening quote */
  while (*p && *p != '"') {
    char c = *p++;
    if (c == '\\') {
      char e = *p++;
      if (e == 'n') c = '\n';
      else if (e == 't') c = '\t';
      else if (e == 'u') { /* the scenario uses no \u escapes; keep them literal */
        c = '?';
        p += 4;
      } else c = e;
    }
    if (n + 2 > cap) out = realloc(out, cap *= 2);
    out[n++] = c;
  }
  p++; /* closing quote */
  out[n] = 0;
  return out;
}

static json *new_json(jtype t) {
  json *j = calloc(1, sizeof *j);
  j->type = t;
  return j;
}

static void push(json *j, char *key, json *v) {
  j->items = realloc(j->items, sizeof(json *) * (j->len + 1));
  j->items[j->len] = v;
  if (j->type == J_OBJ) {
    j->keys = realloc(j->keys, sizeof(char *) * (j->len + 1));
    j->keys[j->len] = key;
  }
  j->len++;
}

static json *parse_value(void) {
  ws();
  json *j;
  if (*p == '{') {
    j = new_json(J_OBJ);
    p++;
    ws();
    while (*p && *p != '}') {
      ws();
      char *k = parse_string();
      ws();
      p++; /* : */
      push(j, k, parse_value());
      ws();
      if (*p == ',') p++;
      ws();
    }
    p++;
  } else if (*p == '[') {
    j = new_json(J_ARR);
    p++;
    ws();
    while (*p && *p != ']') {
      push(j, NULL, parse_value());
      ws();
      if (*p == ',') p++;
      ws();
    }
    p++;
  } else if (*p == '"') {
    j = new_json(J_STR);
    j->str = parse_string();
  } else if (!strncmp(p, "true", 4)) {
    j = new_json(J_BOOL);
    j->boolean = 1;
    p += 4;
  } else if (!strncmp(p, "false", 5)) {
    j = new_json(J_BOOL);
    p += 5;
  } else if (!strncmp(p, "null", 4)) {
    j = new_json(J_NULL);
    p += 4;
  } else {
    j = new_json(J_NUM);
    char *end;
    j->num = strtod(p, &end);
    p = end;
  }
  return j;
}

static json *parse(const char *text) {
  p = text;
  return parse_value();
}

static void free_json(json *j) {
  if (!j) return;
  for (int i = 0; i < j->len; i++) {
    free_json(j->items[i]);
    if (j->keys) free(j->keys[i]);
  }
  free(j->items);
  free(j->keys);
  free(j->str);
  free(j);
}

static json *get(const json *obj, const char *key) {
  if (!obj || obj->type != J_OBJ) return NULL;
  for (int i = 0; i < obj->len; i++)
    if (!strcmp(obj->keys[i], key)) return obj->items[i];
  return NULL;
}

static const char *str(const json *obj, const char *key) {
  json *v = get(obj, key);
  return v && v->type == J_STR ? v->str : NULL;
}

/* Appends JSON text for j to a growing buffer. */
typedef struct { char *buf; size_t len, cap; } sbuf;
static void put(sbuf *b, const char *s) {
  size_t n = strlen(s);
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->buf = realloc(b->buf, b->cap);
  }
  memcpy(b->buf + b->len, s, n + 1);
  b->len += n;
}
static void put_string(sbuf *b, const char *s) {
  put(b, "\"");
  for (; *s; s++) {
    char c[3] = {*s, 0, 0};
    if (*s == '"' || *s == '\\') { c[0] = '\\'; c[1] = *s; }
    put(b, c);
  }
  put(b, "\"");
}
static void write_json(sbuf *b, const json *j) {
  char num[64];
  switch (j->type) {
    case J_NULL: put(b, "null"); break;
    case J_BOOL: put(b, j->boolean ? "true" : "false"); break;
    case J_NUM: snprintf(num, sizeof num, "%.17g", j->num); put(b, num); break;
    case J_STR: put_string(b, j->str); break;
    case J_ARR:
      put(b, "[");
      for (int i = 0; i < j->len; i++) { if (i) put(b, ","); write_json(b, j->items[i]); }
      put(b, "]");
      break;
    case J_OBJ:
      put(b, "{");
      for (int i = 0; i < j->len; i++) {
        if (i) put(b, ",");
        put_string(b, j->keys[i]);
        put(b, ":");
        write_json(b, j->items[i]);
      }
      put(b, "}");
      break;
  }
}
static char *to_text(const json *j) {
  sbuf b = {0};
  put(&b, "");
  write_json(&b, j);
  return b.buf;
}

static int equal(const json *a, const json *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
    case J_NULL: return 1;
    case J_BOOL: return a->boolean == b->boolean;
    case J_NUM: return fabs(a->num - b->num) < 1e-9;
    case J_STR: return !strcmp(a->str, b->str);
    case J_ARR:
      if (a->len != b->len) return 0;
      for (int i = 0; i < a->len; i++) if (!equal(a->items[i], b->items[i])) return 0;
      return 1;
    case J_OBJ:
      if (a->len != b->len) return 0;
      for (int i = 0; i < a->len; i++) {
        json *o = get(b, a->keys[i]);
        if (!o || !equal(a->items[i], o)) return 0;
      }
      return 1;
  }
  return 0;
}

/* A domain handle for the step's namespace and domain (NULL with the error's code in *rc). */
static tandem_domain *domain_of(tandem_engine *e, const json *a, int *rc) {
  tandem_domain *d = NULL;
  *rc = tandem_engine_domain(e, str(a, "namespace"), str(a, "domain"), &d);
  return d;
}

/* A model handle for the step's namespace, domain and model id. */
static tandem_model *model_of(tandem_engine *e, const json *a, int *rc) {
  tandem_model *m = NULL;
  tandem_domain *d = domain_of(e, a, rc);
  if (d) *rc = tandem_domain_model(d, str(a, "model_id"), &m);
  tandem_domain_free(d);
  return m;
}

/* The JSON text of argument `key` (NULL when absent or null); free it with free. */
static char *arg_text(const json *a, const char *key) {
  json *v = get(a, key);
  return v && v->type != J_NULL ? to_text(v) : NULL;
}

/* The identity and permission calls on a domain handle (ffi/src/access.rs). */
static int access_step(tandem_engine *e, const char *call, const json *a, char **out) {
  int rc = TANDEM_OK;
  tandem_domain *d = domain_of(e, a, &rc);
  if (!d) return rc;
  const char *username = str(a, "username"), *group = str(a, "group"), *collection = str(a, "collection");
  char *user = arg_text(a, "user"), *target = arg_text(a, "target"), *change = arg_text(a, "change");
  char *profile = arg_text(a, "profile"), *world = arg_text(a, "world"), *rights = arg_text(a, "rights");
  char *settings = arg_text(a, "settings");
  json *flag = get(a, "disabled"), *ttl = get(a, "ttl_secs");
  if (!strcmp(call, "user")) rc = tandem_domain_user(d, username, out);
  else if (!strcmp(call, "update_user")) rc = tandem_domain_update_user(d, username, profile, out);
  else if (!strcmp(call, "set_user_disabled")) rc = tandem_domain_set_user_disabled(d, username, flag && flag->boolean);
  else if (!strcmp(call, "create_group")) rc = tandem_domain_create_group(d, group, str(a, "description"), out);
  else if (!strcmp(call, "set_group_description"))
    rc = tandem_domain_set_group_description(d, group, str(a, "description"));
  else if (!strcmp(call, "delete_group")) rc = tandem_domain_delete_group(d, group);
  else if (!strcmp(call, "group")) rc = tandem_domain_group(d, group, out);
  else if (!strcmp(call, "groups")) rc = tandem_domain_groups(d, out);
  else if (!strcmp(call, "add_group_member")) rc = tandem_domain_add_group_member(d, group, user);
  else if (!strcmp(call, "remove_group_member")) rc = tandem_domain_remove_group_member(d, group, user);
  else if (!strcmp(call, "user_groups")) rc = tandem_domain_user_groups(d, user, out);
  else if (!strcmp(call, "presence")) {
    char *users = arg_text(a, "users");
    rc = tandem_domain_presence(d, users, out);
    free(users);
  }
  else if (!strcmp(call, "collection_permissions")) rc = tandem_domain_collection_permissions(d, collection, out);
  else if (!strcmp(call, "set_collection_world")) rc = tandem_domain_set_collection_world(d, collection, world);
  else if (!strcmp(call, "set_collection_user")) rc = tandem_domain_set_collection_user(d, collection, user, rights);
  else if (!strcmp(call, "permissions")) rc = tandem_domain_permissions(d, target, out);
  else if (!strcmp(call, "change_permissions")) rc = tandem_domain_change_permissions(d, target, change);
  else if (!strcmp(call, "resolve_permissions")) rc = tandem_domain_resolve_permissions(d, target, user, out);
  else if (!strcmp(call, "settings")) rc = tandem_domain_settings(d, out);
  else if (!strcmp(call, "set_settings")) rc = tandem_domain_set_settings(d, settings);
  else if (!strcmp(call, "set_state")) rc = tandem_domain_set_state(d, str(a, "state"));
  else if (!strcmp(call, "admin_token")) { /* the token is plain text: the result is it as a JSON string */
    char *token = NULL;
    rc = tandem_domain_admin_token(d, username, ttl ? (uint64_t)ttl->num : 0, &token);
    if (rc == TANDEM_OK) {
      json *s = new_json(J_STR);
      s->str = strdup(token);
      *out = to_text(s);
      free_json(s);
    }
    tandem_string_free(token);
  }
  else {
    fprintf(stderr, "unknown call %s\n", call);
    rc = -1;
  }
  free(user);
  free(target);
  free(change);
  free(profile);
  free(world);
  free(rights);
  free(settings);
  tandem_domain_free(d);
  return rc;
}

/* The activity calls on a domain handle (ffi/src/activities.rs). */
static int activity_step(tandem_engine *e, const char *call, const json *a, char **out) {
  int rc = TANDEM_OK;
  tandem_domain *d = domain_of(e, a, &rc);
  if (!d) return rc;
  const char *type = str(a, "type"), *id = str(a, "id");
  if (!strcmp(call, "create_activity")) {
    char *rows = arg_text(a, "permissions");
    rc = tandem_domain_create_activity(d, type, id, rows);
    free(rows);
  } else if (!strcmp(call, "delete_activity")) rc = tandem_domain_delete_activity(d, type, id);
  else if (!strcmp(call, "activity_participants")) rc = tandem_domain_activity_participants(d, type, id, out);
  else { /* activity_exists: the result is a JSON boolean built here */
    bool exists = false;
    rc = tandem_domain_activity_exists(d, type, id, &exists);
    if (rc == TANDEM_OK) *out = strdup(exists ? "true" : "false");
  }
  tandem_domain_free(d);
  return rc;
}

/* The chat calls on a domain handle (ffi/src/chats.rs), and the model query (ffi/src/query.rs). */
static int chat_step(tandem_engine *e, const char *call, const json *a, char **out) {
  int rc = TANDEM_OK;
  tandem_domain *d = domain_of(e, a, &rc);
  if (!d) return rc;
  const char *id = str(a, "id");
  char *user = arg_text(a, "user");
  if (!strcmp(call, "create_chat")) { /* the id is plain text: the result is it as a JSON string */
    char *chat = arg_text(a, "chat"), *made = NULL;
    rc = tandem_domain_create_chat(d, chat, &made);
    if (rc == TANDEM_OK) {
      json *s = new_json(J_STR);
      s->str = strdup(made);
      *out = to_text(s);
      free_json(s);
    }
    tandem_string_free(made);
    free(chat);
  } else if (!strcmp(call, "direct_chat")) {
    char *users = arg_text(a, "users");
    rc = tandem_domain_direct_chat(d, users, out);
    free(users);
  } else if (!strcmp(call, "remove_chat")) rc = tandem_domain_remove_chat(d, id);
  else if (!strcmp(call, "chat")) rc = tandem_domain_chat(d, id, out);
  else if (!strcmp(call, "chats")) rc = tandem_domain_chats(d, out);
  else if (!strcmp(call, "add_chat_member")) rc = tandem_domain_change_chat_member(d, id, user, true);
  else if (!strcmp(call, "remove_chat_member")) rc = tandem_domain_change_chat_member(d, id, user, false);
  else if (!strcmp(call, "set_chat_name")) rc = tandem_domain_set_chat_text(d, id, str(a, "name"), false);
  else if (!strcmp(call, "set_chat_topic")) rc = tandem_domain_set_chat_text(d, id, str(a, "topic"), true);
  else if (!strcmp(call, "post_chat_message")) rc = tandem_domain_post_chat_message(d, id, user, str(a, "text"), out);
  else if (!strcmp(call, "query")) rc = tandem_domain_query(d, str(a, "query"), user, out);
  else { /* chat_history */
    char *query = arg_text(a, "query");
    rc = tandem_domain_chat_history(d, id, query, out);
    free(query);
  }
  free(user);
  tandem_domain_free(d);
  return rc;
}

/* Whether `call` is one of the chat calls. */
static int is_chat_call(const char *call) {
  static const char *const calls[] = {"create_chat",       "direct_chat",       "remove_chat",
                                      "chat",              "chats",             "add_chat_member",
                                      "remove_chat_member", "set_chat_name",    "set_chat_topic",
                                      "post_chat_message", "chat_history",      "query",
                                      NULL};
  for (int i = 0; calls[i]; i++)
    if (!strcmp(call, calls[i])) return 1;
  return 0;
}

/* Runs one step through the handles; returns the status and sets *out to the result's JSON. */
static int run_step(tandem_engine *e, const char *call, const json *a, char **out) {
  int rc = TANDEM_OK;
  char num[32];
  if (!strcmp(call, "create_domain"))
    return tandem_engine_create_domain(e, str(a, "namespace"), str(a, "domain"), NULL, NULL);
  if (!strcmp(call, "domains")) return tandem_engine_domains(e, out);
  if (!strcmp(call, "shutdown")) return tandem_engine_shutdown(e);
  if (!strcmp(call, "create_collection") || !strcmp(call, "collections") || !strcmp(call, "create_user") ||
      !strcmp(call, "users") || !strcmp(call, "set_password") || !strcmp(call, "create_model")) {
    tandem_domain *d = domain_of(e, a, &rc);
    if (!d) return rc;
    if (!strcmp(call, "create_collection")) rc = tandem_domain_create_collection(d, str(a, "collection"));
    else if (!strcmp(call, "collections")) rc = tandem_domain_collections(d, out);
    else if (!strcmp(call, "create_user")) {
      /* NewUser is the args without the namespace and domain. */
      json user = *a;
      user.len = 0;
      json *items[16];
      char *keys[16];
      user.items = items;
      user.keys = keys;
      for (int k = 0; k < a->len && user.len < 16; k++)
        if (strcmp(a->keys[k], "namespace") && strcmp(a->keys[k], "domain")) {
          items[user.len] = a->items[k];
          keys[user.len++] = a->keys[k];
        }
      char *u = to_text(&user);
      rc = tandem_domain_create_user(d, u, NULL);
      free(u);
    } else if (!strcmp(call, "users")) {
      char *list = NULL;
      rc = tandem_domain_users(d, &list);
      if (rc == TANDEM_OK) { /* [{"username", ...}] -> ["bob"] */
        json *l = parse(list), *names = new_json(J_ARR);
        for (int k = 0; k < l->len; k++) {
          json *n = new_json(J_STR);
          n->str = strdup(str(l->items[k], "username"));
          push(names, NULL, n);
        }
        *out = to_text(names);
        free_json(names);
        free_json(l);
      }
      tandem_string_free(list);
    } else if (!strcmp(call, "set_password"))
      rc = tandem_domain_set_password(d, str(a, "username"), str(a, "password"));
    else {
      char *data = to_text(get(a, "data"));
      tandem_model *m = NULL;
      rc = tandem_domain_create_model(d, str(a, "collection"), str(a, "model_id"), data, &m);
      free(data);
      if (rc == TANDEM_OK) {
        char *id = NULL;
        rc = tandem_model_id(m, &id);
        json *s = new_json(J_STR);
        s->str = strdup(id ? id : "");
        *out = to_text(s);
        free_json(s);
        tandem_string_free(id);
      }
      tandem_model_free(m);
    }
    tandem_domain_free(d);
    return rc;
  }
  if (!strcmp(call, "apply") || !strcmp(call, "model_json") || !strcmp(call, "delete_model") ||
      !strcmp(call, "undo")) {
    tandem_model *m = model_of(e, a, &rc);
    if (!m) return rc;
    if (!strcmp(call, "undo")) {
      char *scope = to_text(get(a, "scope"));
      json *redo = get(a, "redo");
      rc = tandem_model_undo(m, scope, NULL, redo && redo->type == J_BOOL && redo->boolean, out);
      free(scope);
    } else if (!strcmp(call, "apply")) {
      char *changes = to_text(get(a, "changes"));
      uint64_t v = 0;
      rc = tandem_model_apply(m, changes, &v);
      free(changes);
      if (rc == TANDEM_OK) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)v);
        *out = strdup(num);
      }
    } else if (!strcmp(call, "model_json")) {
      json *v = get(a, "version");
      rc = v ? tandem_model_json_at(m, (uint64_t)v->num, out) : tandem_model_json(m, out);
    } else
      rc = tandem_model_delete(m);
    tandem_model_free(m);
    return rc;
  }
  if (!strcmp(call, "model_permissions") || !strcmp(call, "set_model_permissions") || !strcmp(call, "rights_of")) {
    tandem_model *m = model_of(e, a, &rc);
    if (!m) return rc;
    char *change = arg_text(a, "change"), *user = arg_text(a, "user");
    if (!strcmp(call, "model_permissions")) rc = tandem_model_permissions(m, out);
    else if (!strcmp(call, "set_model_permissions")) rc = tandem_model_set_permissions(m, change);
    else rc = tandem_model_rights_of(m, user, out);
    free(change);
    free(user);
    tandem_model_free(m);
    return rc;
  }
  if (!strcmp(call, "create_activity") || !strcmp(call, "delete_activity") || !strcmp(call, "activity_exists") ||
      !strcmp(call, "activity_participants"))
    return activity_step(e, call, a, out);
  if (is_chat_call(call)) return chat_step(e, call, a, out);
  return access_step(e, call, a, out);
}

/* Results from the library are freed with tandem_string_free, the others with free. */
static int from_library(const char *call) {
  static const char *const built_here[] = {"users", "create_model", "apply", "admin_token",
                                               "activity_exists", "create_chat", NULL};
  for (int i = 0; built_here[i]; i++)
    if (!strcmp(call, built_here[i])) return 0;
  return 1;
}

/* Whether a result is a JWT: three non-empty dot-separated base64url parts. */
static int is_jwt(const json *j) {
  if (!j || j->type != J_STR) return 0;
  int dots = 0, part = 0;
  for (const char *c = j->str; *c; c++) {
    if (*c == '.') {
      if (!part) return 0;
      dots++;
      part = 0;
    } else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
               *c == '_')
      part++;
    else
      return 0;
  }
  return dots == 2 && part > 0;
}

/* Whether `got` matches `want` as the scenario's `like` says: an object names some of the
 * result's fields, an array has its length and matching elements, anything else is equal. */
static int like(const json *got, const json *want) {
  if (!got) return 0;
  if (want->type == J_OBJ) {
    if (got->type != J_OBJ) return 0;
    for (int i = 0; i < want->len; i++)
      if (!like(get(got, want->keys[i]), want->items[i])) return 0;
    return 1;
  }
  if (want->type == J_ARR) {
    if (got->type != J_ARR || got->len != want->len) return 0;
    for (int i = 0; i < want->len; i++)
      if (!like(got->items[i], want->items[i])) return 0;
    return 1;
  }
  return equal(got, want);
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "tests/conformance/scenario.json";
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "cannot open %s\n", path); return 2; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc(size + 1);
  size_t got_bytes = fread(text, 1, size, f);
  text[got_bytes] = 0;
  fclose(f);
  json *scenario = parse(text);
  free(text);
  json *steps = get(scenario, "steps");
  tandem_engine *e = NULL;
  if (tandem_engine_open(NULL, &e) != TANDEM_OK) {
    fprintf(stderr, "cannot open the engine: %s\n", tandem_last_error_message());
    return 1;
  }
  int failures = 0;
  for (int i = 0; steps && i < steps->len; i++) {
    json *step = steps->items[i], *a = get(step, "args"), *expect = get(step, "expect");
    const char *call = str(step, "call");
    char *result_text = NULL;
    int rc = run_step(e, call, a, &result_text);
    const char *name = rc < 0 ? "unknown call" : tandem_error_name(rc);
    if (!name) name = "no such code";

    json *want_error = get(expect, "error"), *want_result = get(expect, "result");
    json *want_like = get(expect, "like"), *want_shape = get(expect, "shape");
    if (want_error) {
      if (rc == TANDEM_OK || strcmp(name, want_error->str)) {
        fprintf(stderr, "step %d %s: expected %s, got %s\n", i, call, want_error->str, name);
        failures++;
      }
    } else if (rc != TANDEM_OK) {
      fprintf(stderr, "step %d %s: unexpected error %s: %s\n", i, call, name, tandem_last_error_message());
      failures++;
    } else if (want_result) {
      json *got = result_text ? parse(result_text) : new_json(J_NULL);
      if (!equal(got, want_result)) {
        fprintf(stderr, "step %d %s: got %s\n", i, call, result_text ? result_text : "(nothing)");
        failures++;
      }
      free_json(got);
    } else if (want_like || want_shape) {
      json *got = result_text ? parse(result_text) : new_json(J_NULL);
      int ok = want_like ? like(got, want_like)
                           : want_shape->type == J_STR && !strcmp(want_shape->str, "jwt") && is_jwt(got);
      if (!ok) {
        fprintf(stderr, "step %d %s: got %s\n", i, call, result_text ? result_text : "(nothing)");
        failures++;
      }
      free_json(got);
    }
    if (from_library(call)) tandem_string_free(result_text);
    else free(result_text);
  }
  tandem_engine_free(e);
  int n = steps ? steps->len : 0;
  free_json(scenario);
  if (failures || n == 0) {
    fprintf(stderr, "scenario: %d failure(s)\n", failures);
    return 1;
  }
  printf("C ABI: shared scenario passed (%d steps, through the engine, domain and model handles)\n", n);
  return 0;
}
