/* Exercises the Tandem C ABI (version 2): engine, listener, domain and model handles, users,
 * keys, changes, history, exact lone surrogates, events by blocking receive (woken by a close
 * from another thread) and by callback, identity and permissions (profiles, groups, collection,
 * model and generic rights, domain state, admin tokens), chats, operators (administrators and
 * API keys), sessions, webhooks and their deliveries, the list of activities, errors, use after
 * shutdown, and freeing everything (run under valgrind by run.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tandem.h"

static int failures = 0;
#define CHECK(cond, ...)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
      fprintf(stderr, __VA_ARGS__);                                       \
      fprintf(stderr, " (last error %d: %s)\n", tandem_last_error_code(), \
              tandem_last_error_message());                               \
      failures++;                                                         \
    }                                                                     \
  } while (0)

#define SHOW(s) ((s) ? (s) : "(null)")

/* Checks that a returned string equals `want`, then frees it. */
static void expect_text(char *got, const char *want, const char *what) {
  CHECK(got && strcmp(got, want) == 0, "%s: got %s, want %s", what, SHOW(got), want);
  tandem_string_free(got);
}

/* Checks that a returned string contains `part`, then frees it. */
static void expect_part(char *got, const char *part, const char *what) {
  CHECK(got && strstr(got, part) != NULL, "%s: %s lacks %s", what, SHOW(got), part);
  tandem_string_free(got);
}

/* State shared with the model subscription's callback, which runs on the engine's thread. */
struct seen {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int applied;
  pthread_t thread;
  char last_event[512];
  char data_in_callback[256];
  tandem_model *model;
};

static void on_event(const char *json, void *user_data) {
  struct seen *s = (struct seen *)user_data;
  /* Calls into the library from the callback thread work. */
  char *data = NULL;
  int rc = tandem_model_json(s->model, &data);
  pthread_mutex_lock(&s->lock);
  if (strstr(json, "\"type\":\"operation_applied\"")) {
    s->applied++;
    s->thread = pthread_self();
    snprintf(s->last_event, sizeof s->last_event, "%s", json);
    snprintf(s->data_in_callback, sizeof s->data_in_callback, "%s", rc == TANDEM_OK ? data : "error");
    pthread_cond_broadcast(&s->changed);
  }
  pthread_mutex_unlock(&s->lock);
  tandem_string_free(data);
}

/* Waits (on a condition variable, at most 10 s) until the callback saw `n` operations. */
static int wait_applied(struct seen *s, int n) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&s->lock);
  while (s->applied < n && pthread_cond_timedwait(&s->changed, &s->lock, &until) == 0) {
  }
  int got = s->applied;
  pthread_mutex_unlock(&s->lock);
  return got;
}

/* A reader blocked in tandem_subscription_next until another thread closes the subscription. */
struct reader {
  tandem_subscription *sub;
  int rc;
  char *event;
};

static void *read_forever(void *arg) {
  struct reader *r = (struct reader *)arg;
  r->rc = tandem_subscription_next(r->sub, -1, &r->event);
  return NULL;
}

/* Copies the string value of `"key":"..."` in `json` into `out`; 0 when there is none. */
static int json_string(const char *json, const char *key, char *out, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  const char *start = json ? strstr(json, pattern) : NULL;
  if (!start) return 0;
  start += strlen(pattern);
  const char *end = strchr(start, '"');
  if (!end || (size_t)(end - start) >= size) return 0;
  memcpy(out, start, (size_t)(end - start));
  out[end - start] = '\0';
  return 1;
}

/* Operators: server administrators (add, list, log in, verify the token, a new password that
   ends the token, remove) and a domain's API keys (create, verify, list, revoke). */
static void check_operators(tandem_engine *engine) {
  char *text = NULL;
  CHECK(tandem_engine_admins(engine, &text) == TANDEM_OK, "admins");
  expect_text(text, "[]", "no administrators yet");
  text = NULL;
  CHECK(tandem_engine_add_admin(engine, "root", "s3cret", &text) == TANDEM_OK, "add admin");
  expect_part(text, "\"username\":\"root\"", "added admin");
  CHECK(tandem_engine_add_admin(engine, "root", "other", NULL) == TANDEM_ERR_ALREADY_EXISTS, "admin twice");
  text = NULL;
  CHECK(tandem_engine_admins(engine, &text) == TANDEM_OK, "admins");
  CHECK(text && strncmp(text, "[{", 2) == 0 && strstr(text, "\"username\":\"root\"") && !strstr(text, "},{"),
        "one administrator: %s", SHOW(text));
  tandem_string_free(text);
  text = NULL;
  CHECK(tandem_engine_admin_login(engine, "root", "wrong", &text) == TANDEM_ERR_UNAUTHENTICATED && !text,
        "wrong password");
  char *login = NULL;
  char token[512] = "";
  CHECK(tandem_engine_admin_login(engine, "root", "s3cret", &login) == TANDEM_OK, "admin login");
  CHECK(json_string(login, "token", token, sizeof token) && strstr(login, "\"expires_ms\":"), "login %s",
        SHOW(login));
  tandem_string_free(login);
  text = NULL;
  CHECK(tandem_engine_verify_admin_token(engine, token, &text) == TANDEM_OK, "verify admin token");
  expect_part(text, "\"username\":\"root\"", "the token's administrator");
  CHECK(tandem_engine_verify_admin_token(engine, "not-a-token", NULL) == TANDEM_ERR_UNAUTHENTICATED, "bad token");
  CHECK(tandem_engine_set_admin_password(engine, "root", "n3w") == TANDEM_OK, "new admin password");
  CHECK(tandem_engine_verify_admin_token(engine, token, NULL) == TANDEM_ERR_UNAUTHENTICATED,
        "a new password ends the old token");
  CHECK(tandem_engine_set_admin_password(engine, "nobody", "x") == TANDEM_ERR_NOT_FOUND, "password of nobody");
  CHECK(tandem_engine_remove_admin(engine, "root") == TANDEM_OK, "remove admin");
  CHECK(tandem_engine_remove_admin(engine, "root") == TANDEM_ERR_NOT_FOUND, "remove admin twice");
  CHECK(tandem_engine_admin_login(engine, NULL, "x", &text) == TANDEM_ERR_INVALID_ARGUMENT, "null username");

  tandem_domain *d = NULL;
  CHECK(tandem_engine_create_domain(engine, "acme", "keys", NULL, &d) == TANDEM_OK, "keys domain");
  if (!d) return;
  char *created = NULL;
  char id[128] = "", secret[512] = "";
  CHECK(tandem_domain_create_api_key(d, "ci", 1, &created) == TANDEM_OK, "create api key");
  CHECK(json_string(created, "id", id, sizeof id) && json_string(created, "token", secret, sizeof secret) &&
            strstr(created, "\"read_only\":true"),
        "new key %s", SHOW(created));
  tandem_string_free(created);
  text = NULL;
  CHECK(tandem_domain_verify_api_key(d, secret, &text) == TANDEM_OK, "verify api key");
  CHECK(text && strstr(text, "\"name\":\"ci\"") && strstr(text, id) && !strstr(text, secret), "verified key %s",
        SHOW(text));
  tandem_string_free(text);
  text = NULL;
  CHECK(tandem_domain_api_keys(d, &text) == TANDEM_OK, "api keys");
  CHECK(text && strstr(text, id) && !strstr(text, secret), "listed keys %s", SHOW(text));
  tandem_string_free(text);
  CHECK(tandem_domain_verify_api_key(d, "nope", NULL) == TANDEM_ERR_UNAUTHENTICATED, "not a key");
  CHECK(tandem_domain_revoke_api_key(d, id) == TANDEM_OK, "revoke api key");
  CHECK(tandem_domain_verify_api_key(d, secret, NULL) == TANDEM_ERR_UNAUTHENTICATED, "a revoked key");
  CHECK(tandem_domain_revoke_api_key(d, id) == TANDEM_ERR_NOT_FOUND, "revoke twice");
  text = NULL;
  CHECK(tandem_domain_api_keys(d, &text) == TANDEM_OK, "api keys");
  expect_text(text, "[]", "no keys left");
  tandem_domain_free(d);
}

/* Sessions (none connected), webhooks (a delivery to a port nobody listens on is recorded),
   the model_created event and the list of activities. */
static void check_webhooks(tandem_engine *engine) {
  tandem_domain *d = NULL;
  CHECK(tandem_engine_create_domain(engine, "acme", "hooks", NULL, &d) == TANDEM_OK, "hooks domain");
  if (!d) return;
  char *text = NULL;
  CHECK(tandem_domain_sessions(d, &text) == TANDEM_OK, "sessions");
  expect_text(text, "[]", "nobody connected");
  CHECK(tandem_domain_disconnect_session(d, "nope") == TANDEM_ERR_NOT_FOUND, "disconnect an unknown session");

  text = NULL;
  CHECK(tandem_domain_webhooks(d, &text) == TANDEM_OK, "webhooks");
  expect_text(text, "[]", "no webhooks yet");
  CHECK(tandem_domain_add_webhook(d, "{\"url\":\"ftp://127.0.0.1/x\",\"events\":[\"model.created\"]}", &text) ==
            TANDEM_ERR_INVALID_ARGUMENT, "not an http URL");
  CHECK(tandem_domain_add_webhook(d, "{\"url\":\"http://127.0.0.1:9/x\",\"events\":[\"bogus\"]}", &text) ==
            TANDEM_ERR_INVALID_ARGUMENT, "unknown webhook event");
  CHECK(tandem_domain_add_webhook(d, "{\"url\":\"http://127.0.0.1:9/x\"}", &text) == TANDEM_ERR_INVALID_ARGUMENT,
        "no events");
  char *added = NULL;
  char hook[128] = "", secret[256] = "";
  CHECK(tandem_domain_add_webhook(d, "{\"url\":\"http://127.0.0.1:9/x\",\"events\":[\"model.created\"]}",
                                  &added) == TANDEM_OK, "add webhook");
  CHECK(json_string(added, "id", hook, sizeof hook) && json_string(added, "secret", secret, sizeof secret),
        "added webhook %s", SHOW(added));
  tandem_string_free(added);
  text = NULL;
  CHECK(tandem_domain_webhooks(d, &text) == TANDEM_OK, "webhooks");
  CHECK(text && strstr(text, hook) && strstr(text, "\"url\":\"http://127.0.0.1:9/x\"") &&
            strstr(text, "\"events\":[\"model.created\"]") && !strstr(text, secret),
        "listed webhooks %s", SHOW(text));
  tandem_string_free(text);

  tandem_subscription *events = NULL;
  CHECK(tandem_domain_subscribe(d, &events) == TANDEM_OK, "hooks subscription");
  CHECK(tandem_domain_create_model(d, "notes", "w1", "{}", NULL) == TANDEM_OK, "model for the webhook");
  int saw_created = 0;
  for (int i = 0; i < 20 && !saw_created; i++) {
    char *event = NULL;
    if (tandem_subscription_next(events, 5000, &event) != TANDEM_OK || !event) break;
    saw_created = strstr(event, "\"type\":\"model_created\"") && strstr(event, "\"model\":\"w1\"") &&
                  strstr(event, "\"collection\":\"notes\"");
    tandem_string_free(event);
  }
  CHECK(saw_created, "model_created event");
  tandem_subscription_free(events);

  /* The delivery is recorded once the event reaches the webhook's outbox. */
  char *deliveries = NULL;
  for (int i = 0; i < 200; i++) {
    tandem_string_free(deliveries);
    deliveries = NULL;
    if (tandem_domain_webhook_deliveries(d, hook, &deliveries) != TANDEM_OK || strcmp(deliveries, "[]") != 0) break;
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  char prefix[160];
  snprintf(prefix, sizeof prefix, "\"id\":\"%s.", hook);
  CHECK(deliveries && strstr(deliveries, prefix) && strstr(deliveries, "\"event\":\"model.created\"") &&
            (strstr(deliveries, "\"status\":\"pending\"") || strstr(deliveries, "\"status\":\"failed\"")),
        "deliveries %s", SHOW(deliveries));
  tandem_string_free(deliveries);
  CHECK(tandem_domain_remove_webhook(d, hook) == TANDEM_OK, "remove webhook");
  CHECK(tandem_domain_remove_webhook(d, hook) == TANDEM_ERR_NOT_FOUND, "remove webhook twice");
  text = NULL;
  CHECK(tandem_domain_webhook_deliveries(d, hook, &text) == TANDEM_ERR_NOT_FOUND && !text,
        "deliveries of a removed webhook");
  CHECK(tandem_domain_webhooks(d, &text) == TANDEM_OK, "webhooks");
  expect_text(text, "[]", "no webhooks left");

  text = NULL;
  CHECK(tandem_domain_activities(d, &text) == TANDEM_OK, "activities");
  expect_text(text, "[]", "no activities yet");
  CHECK(tandem_domain_create_activity(d, "board", "b1", NULL) == TANDEM_OK, "activity to list");
  text = NULL;
  CHECK(tandem_domain_activities(d, &text) == TANDEM_OK, "activities");
  expect_part(text, "[{\"activity_type\":\"board\",\"id\":\"b1\",\"created_ms\":", "the listed activity");
  tandem_domain_free(d);
}

/* Chats through the domain handle: a channel, a member, posts as the host and as the member,
   a stranger refused, history, the chat_changed event, removal. */
static void check_undo(tandem_engine *engine) {
  tandem_domain *d = NULL;
  CHECK(tandem_engine_create_domain(engine, "acme", "undo", NULL, &d) == TANDEM_OK, "undo domain");
  if (!d) return;
  tandem_model *m = NULL;
  CHECK(tandem_domain_create_model(d, "notes", "u1", "{\"t\":\"ab\"}", &m) == TANDEM_OK, "undo model");
  if (!m) {
    tandem_domain_free(d);
    return;
  }
  const char *ann = "{\"kind\": \"normal\", \"name\": \"ann\"}";
  uint64_t version = 0;
  CHECK(tandem_model_apply_as(m, "{\"op\":\"splice\",\"path\":[\"t\"],\"index\":2,\"insert\":\"cd\"}", ann,
                              &version) == TANDEM_OK && version == 2, "ann types");
  char *text = NULL;
  CHECK(tandem_model_undo(m, "{\"last_of\": {\"kind\": \"normal\", \"name\": \"ann\"}}", NULL, 0, &text) == TANDEM_OK,
        "undo ann's last");
  expect_text(text, "{\"outcome\":\"undone\",\"version\":3,\"undid\":[2]}", "undo outcome");
  text = NULL;
  CHECK(tandem_model_json(m, &text) == TANDEM_OK, "json after undo");
  expect_text(text, "{\"t\":\"ab\"}", "ann's text gone");
  text = NULL;
  CHECK(tandem_model_undo(m, "{\"version\": 3}", ann, 1, &text) == TANDEM_OK, "redo as ann");
  expect_part(text, "\"outcome\":\"undone\"", "redo outcome");
  text = NULL;
  CHECK(tandem_model_json(m, &text) == TANDEM_OK, "json after redo");
  expect_text(text, "{\"t\":\"abcd\"}", "ann's text back");
  text = NULL;
  CHECK(tandem_model_history(m, 4, 4, &text) == TANDEM_OK, "history of the redo");
  expect_part(text, "\"undoes\":[3]", "the redo is marked");
  text = NULL;
  CHECK(tandem_model_undo(m, "{\"sideways\": 1}", NULL, 0, &text) == TANDEM_ERR_INVALID_ARGUMENT && !text,
        "unknown scope refused");
  tandem_model_free(m);
  tandem_domain_free(d);
}

static void check_chats(tandem_engine *engine) {
  tandem_domain *d = NULL;
  CHECK(tandem_engine_create_domain(engine, "acme", "chat", NULL, &d) == TANDEM_OK, "chat domain");
  if (!d) return;
  CHECK(tandem_domain_create_user(d, "{\"username\": \"ann\"}", NULL) == TANDEM_OK, "chat user");
  tandem_subscription *events = NULL;
  CHECK(tandem_domain_subscribe(d, &events) == TANDEM_OK, "chat subscription");
  char *text = NULL;
  CHECK(tandem_domain_create_chat(d, "{\"id\": \"lobby\", \"kind\": \"channel\", \"name\": \"Lobby\"}",
                                  &text) == TANDEM_OK, "create chat");
  expect_text(text, "lobby", "chat id");
  text = NULL;
  CHECK(tandem_domain_create_chat(d, "{\"id\": \"lobby\", \"kind\": \"channel\"}", &text) ==
            TANDEM_ERR_ALREADY_EXISTS, "create chat twice");
  const char *ann = "{\"kind\": \"normal\", \"name\": \"ann\"}";
  CHECK(tandem_domain_post_chat_message(d, "lobby", ann, "too early", NULL) == TANDEM_ERR_NOT_FOUND,
        "a non-member is refused as if there were no chat");
  CHECK(tandem_domain_change_chat_member(d, "lobby", ann, true) == TANDEM_OK, "add member");
  CHECK(tandem_domain_post_chat_message(d, "lobby", ann, "hi from ann", &text) == TANDEM_OK, "member posts");
  expect_part(text, "\"number\":", "posted message number");
  CHECK(tandem_domain_post_chat_message(d, "lobby", NULL, "hi from the host", NULL) == TANDEM_OK, "host posts");
  CHECK(tandem_domain_set_chat_text(d, "lobby", "Daily news", true) == TANDEM_OK, "topic");
  text = NULL;
  CHECK(tandem_domain_chat_history(d, "lobby", "{\"kinds\": [\"message\"], \"forward\": true}", &text) ==
            TANDEM_OK, "history");
  expect_part(text, "\"total\":2", "two messages");
  text = NULL;
  CHECK(tandem_domain_chat(d, "lobby", &text) == TANDEM_OK, "chat info");
  expect_part(text, "\"topic\":\"Daily news\"", "topic set");
  /* The subscription saw the member's message (after the member's addition). */
  int saw_message = 0;
  for (int i = 0; i < 20 && !saw_message; i++) {
    char *event = NULL;
    if (tandem_subscription_next(events, 2000, &event) != TANDEM_OK || !event) break;
    saw_message = strstr(event, "\"chat_changed\"") && strstr(event, "hi from ann");
    tandem_string_free(event);
  }
  CHECK(saw_message, "chat_changed event with the member's message");
  text = NULL;
  CHECK(tandem_domain_direct_chat(d, "[{\"kind\": \"normal\", \"name\": \"ann\"}]", &text) == TANDEM_OK,
        "direct chat");
  expect_part(text, "\"kind\":\"direct\"", "a direct chat");
  text = NULL;
  CHECK(tandem_domain_direct_chat(d, "[]", &text) == TANDEM_ERR_INVALID_ARGUMENT, "a direct chat of nobody");
  CHECK(tandem_domain_remove_chat(d, "lobby") == TANDEM_OK, "remove chat");
  text = NULL;
  CHECK(tandem_domain_chat(d, "lobby", &text) == TANDEM_OK, "removed chat info");
  expect_text(text, "null", "no chat after removal");
  tandem_subscription_free(events);
  tandem_domain_free(d);
}

int main(void) {
  CHECK(tandem_abi_version() == TANDEM_ABI_VERSION && TANDEM_ABI_VERSION == 2, "abi version");
  CHECK(strcmp(tandem_error_name(TANDEM_OK), "ok") == 0, "name of ok");
  CHECK(strcmp(tandem_error_name(TANDEM_ERR_NOT_FOUND), "not_found") == 0, "name of not_found");
  CHECK(strcmp(tandem_error_name(TANDEM_ERR_UNAUTHENTICATED), "unauthenticated") == 0, "name");
  CHECK(tandem_error_name(999) == NULL, "no name for a number that is no code");

  /* Bad configuration: a clear error, no engine. */
  tandem_engine *bad = NULL;
  CHECK(tandem_engine_open("{\"data_dri\": \"/tmp/x\"}", &bad) == TANDEM_ERR_CONFIG, "bad config");
  CHECK(bad == NULL, "no engine for a bad config");
  CHECK(strstr(tandem_last_error_message(), "data_dri") != NULL, "message names the field");
  CHECK(tandem_engine_open(NULL, NULL) == TANDEM_ERR_INVALID_ARGUMENT, "null out handle");

  char dir[] = "/tmp/tandem-c-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char config[256];
  /* A modest map size: valgrind limits the address space a process may reserve. */
  snprintf(config, sizeof config, "{\"data_dir\": \"%s\", \"store\": {\"max_size_mb\": 512}}", dir);
  tandem_engine *engine = NULL;
  CHECK(tandem_engine_open(config, &engine) == TANDEM_OK, "engine");
  if (!engine) return 1;

  char *text = NULL;
  CHECK(tandem_engine_listen(engine, "127.0.0.1:0", "{\"max_connections\": 8}", &text) == TANDEM_OK, "listen");
  expect_part(text, "127.0.0.1:", "bound address");
  text = NULL;
  CHECK(tandem_engine_listen(engine, "127.0.0.1:0", NULL, NULL) == TANDEM_ERR_ALREADY_EXISTS, "listen twice");
  CHECK(tandem_engine_listen(engine, "127.0.0.1:0", "{\"bogus\": 1}", &text) == TANDEM_ERR_CONFIG, "bad net config");

  /* Domains. */
  tandem_domain *docs = NULL;
  CHECK(tandem_engine_create_domain(engine, "acme", "docs", "{\"anonymous_auth\": true}", &docs) == TANDEM_OK, "domain");
  CHECK(tandem_engine_create_domain(engine, "acme", "docs", NULL, NULL) == TANDEM_ERR_ALREADY_EXISTS, "dup domain");
  CHECK(tandem_engine_create_domain(engine, "acme", "x", "{\"anonymus\": true}", NULL) == TANDEM_ERR_INVALID_ARGUMENT,
        "unknown settings field");
  CHECK(tandem_engine_domains(engine, &text) == TANDEM_OK, "domains");
  expect_text(text, "[[\"acme\",\"docs\"]]", "domains");
  CHECK(tandem_domain_settings(docs, &text) == TANDEM_OK, "settings");
  expect_part(text, "\"anonymous_auth\":true", "settings");
  CHECK(tandem_domain_set_anonymous_auth(docs, 0) == TANDEM_OK, "set anonymous");
  CHECK(tandem_domain_settings(docs, &text) == TANDEM_OK, "settings");
  expect_part(text, "\"anonymous_auth\":false", "settings after change");
  tandem_domain *missing = NULL;
  CHECK(tandem_engine_domain(engine, "acme", "nope", &missing) == TANDEM_ERR_NOT_FOUND && !missing, "no domain");
  tandem_domain *again = NULL;
  CHECK(tandem_engine_domain(engine, "acme", "docs", &again) == TANDEM_OK && again, "domain handle");

  /* Users and keys. */
  CHECK(tandem_domain_create_user(docs, "{\"username\":\"bob\",\"password\":\"pw\"}", &text) == TANDEM_OK, "user");
  expect_part(text, "\"has_password\":true", "created user");
  CHECK(tandem_domain_create_user(docs, "{\"username\":\"bob\"}", NULL) == TANDEM_ERR_ALREADY_EXISTS, "dup user");
  CHECK(tandem_domain_create_user(docs, "{\"usernme\":\"x\"}", NULL) == TANDEM_ERR_INVALID_ARGUMENT, "bad user json");
  CHECK(tandem_domain_create_user(again, "{\"username\":\"eve\"}", NULL) == TANDEM_OK, "second user via second handle");
  CHECK(tandem_domain_set_password(docs, "bob", "pw2") == TANDEM_OK, "passwd");
  CHECK(tandem_domain_set_password(docs, "nobody", "x") == TANDEM_ERR_NOT_FOUND, "passwd unknown user");
  CHECK(tandem_domain_delete_user(docs, "eve") == TANDEM_OK, "delete user");
  CHECK(tandem_domain_users(docs, &text) == TANDEM_OK, "users");
  CHECK(text && strstr(text, "\"username\":\"bob\"") && !strstr(text, "eve"), "users %s", SHOW(text));
  tandem_string_free(text);
  CHECK(tandem_domain_add_jwt_key(docs, "{\"id\":\"k1\",\"public_key_pem\":\"nope\"}", NULL) == TANDEM_ERR_INVALID_ARGUMENT,
        "bad pem");
  CHECK(tandem_domain_jwt_keys(docs, &text) == TANDEM_OK, "keys");
  expect_text(text, "[]", "no keys");
  CHECK(tandem_domain_remove_jwt_key(docs, "k1") == TANDEM_ERR_NOT_FOUND, "remove unknown key");

  /* Collections and models. */
  CHECK(tandem_domain_create_collection(docs, "notes") == TANDEM_OK, "collection");
  CHECK(tandem_domain_collections(docs, &text) == TANDEM_OK, "collections");
  expect_text(text, "[\"notes\"]", "collections");

  tandem_subscription *domain_events = NULL;
  CHECK(tandem_domain_subscribe(docs, &domain_events) == TANDEM_OK, "domain subscription");

  tandem_model *n1 = NULL;
  CHECK(tandem_domain_create_model(docs, "notes", "n1", "{\"text\":\"hi\",\"n\":1}", &n1) == TANDEM_OK, "model");
  if (!n1) return 1;
  CHECK(tandem_model_id(n1, &text) == TANDEM_OK, "model id");
  expect_text(text, "n1", "model id");
  tandem_model *generated = NULL;
  CHECK(tandem_domain_create_model(docs, "notes", NULL, "{}", &generated) == TANDEM_OK, "generated id");
  CHECK(tandem_model_id(generated, &text) == TANDEM_OK && text && strlen(text) == 36, "uuid %s", SHOW(text));
  tandem_string_free(text);
  CHECK(tandem_domain_create_model(docs, "notes", "n0", "{}", NULL) == TANDEM_OK, "model without a handle");
  CHECK(tandem_domain_models(docs, "notes", &text) == TANDEM_OK, "models");
  expect_part(text, "\"id\":\"n1\"", "models");

  struct seen seen = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, pthread_self(), "", "", n1};
  tandem_subscription *model_events = NULL;
  CHECK(tandem_model_subscribe(n1, &model_events) == TANDEM_OK, "model subscription");
  CHECK(tandem_subscription_on_event(model_events, on_event, &seen) == TANDEM_OK, "callback");
  CHECK(tandem_subscription_on_event(model_events, on_event, &seen) == TANDEM_ERR_ALREADY_EXISTS, "second callback");
  CHECK(tandem_subscription_on_event(model_events, NULL, NULL) == TANDEM_ERR_INVALID_ARGUMENT, "null callback");

  uint64_t version = 0;
  CHECK(tandem_model_apply(n1,
                           "[{\"op\":\"splice\",\"path\":[\"text\"],\"index\":2,\"insert\":\" there\"},"
                           "{\"op\":\"add\",\"path\":[\"n\"],\"delta\":41}]",
                           &version) == TANDEM_OK, "apply");
  CHECK(version == 2, "version %llu", (unsigned long long)version);
  CHECK(tandem_model_json(n1, &text) == TANDEM_OK, "json");
  expect_text(text, "{\"n\":42,\"text\":\"hi there\"}", "data");
  CHECK(tandem_model_json_at(n1, 1, &text) == TANDEM_OK, "json at v1");
  expect_text(text, "{\"n\":1,\"text\":\"hi\"}", "data at v1");
  CHECK(tandem_model_json_at(n1, 9, &text) != TANDEM_OK, "no version 9");

  /* The callback runs on the engine's callback thread, never the caller's. */
  CHECK(wait_applied(&seen, 1) == 1, "callback saw the operation");
  pthread_mutex_lock(&seen.lock);
  CHECK(!pthread_equal(seen.thread, pthread_self()), "callback on the engine's thread");
  CHECK(strstr(seen.last_event, "\"version\":2") && strstr(seen.last_event, "\"model\":\"n1\""), "event %s",
        seen.last_event);
  CHECK(strcmp(seen.data_in_callback, "{\"n\":42,\"text\":\"hi there\"}") == 0, "data read in the callback %s",
        seen.data_in_callback);
  pthread_mutex_unlock(&seen.lock);

  /* The domain subscription, read with a blocking receive: the three creations, then the change. */
  char *event = NULL;
  CHECK(tandem_subscription_next(domain_events, 5000, &event) == TANDEM_OK, "next");
  expect_text(event,
              "{\"collection\":\"notes\",\"domain\":\"docs\",\"model\":\"n1\",\"namespace\":\"acme\","
              "\"type\":\"model_created\"}",
              "model_created event");
  CHECK(tandem_subscription_next(domain_events, 5000, &event) == TANDEM_OK, "next");
  expect_part(event, "\"type\":\"model_created\"", "the generated model's creation");
  CHECK(tandem_subscription_next(domain_events, 5000, &event) == TANDEM_OK, "next");
  expect_part(event, "\"model\":\"n0\"", "the creation of the model without a handle");
  CHECK(tandem_subscription_next(domain_events, 5000, &event) == TANDEM_OK, "next");
  expect_part(event, "\"version\":2", "domain event");
  CHECK(tandem_subscription_next(domain_events, 50, &event) == TANDEM_OK && event == NULL, "nothing more: timeout");

  /* A lone surrogate survives the trip: changes in, data, history and events out. */
  CHECK(tandem_model_apply_as(n1, "{\"op\":\"set\",\"path\":[\"s\\ud800\"],\"value\":\"a\\udc00b\"}",
                              "{\"kind\":\"normal\",\"name\":\"bob\"}", &version) == TANDEM_OK && version == 3,
        "apply as bob");
  CHECK(tandem_model_json(n1, &text) == TANDEM_OK, "json with surrogate");
  expect_text(text, "{\"n\":42,\"s\\ud800\":\"a\\udc00b\",\"text\":\"hi there\"}", "lone surrogates exact");
  CHECK(tandem_subscription_next(domain_events, 5000, &event) == TANDEM_OK, "next");
  expect_part(event, "\"a\\udc00b\"", "event keeps the surrogate");
  CHECK(tandem_model_history(n1, 3, 3, &text) == TANDEM_OK, "history");
  CHECK(text && strstr(text, "\"version\":3") && strstr(text, "\"user\":{\"kind\":\"normal\",\"name\":\"bob\"}") &&
            strstr(text, "\\udc00"),
        "history %s", SHOW(text));
  tandem_string_free(text);
  CHECK(tandem_model_apply_as(n1, "[]", "{\"kind\":\"robot\",\"name\":\"x\"}", NULL) == TANDEM_ERR_INVALID_ARGUMENT,
        "bad user kind");
  CHECK(wait_applied(&seen, 2) == 2, "callback saw the second operation");
  CHECK(tandem_model_info(n1, &text) == TANDEM_OK, "info");
  expect_part(text, "\"version\":3", "info");
  CHECK(tandem_model_version_at(n1, (int64_t)time(NULL) * 1000 + 60000, &version) == TANDEM_OK && version == 3,
        "version now %llu", (unsigned long long)version);
  CHECK(tandem_model_version_at(n1, 0, &version) == TANDEM_ERR_INVALID_ARGUMENT, "no version before creation");

  /* A reader blocked without timeout is woken by a close from another thread. */
  struct reader r = {domain_events, -1, NULL};
  pthread_t t;
  pthread_create(&t, NULL, read_forever, &r);
  struct timespec pause = {0, 100 * 1000 * 1000};
  nanosleep(&pause, NULL); /* let the reader block (the test passes either way) */
  CHECK(tandem_subscription_close(domain_events) == TANDEM_OK, "close");
  pthread_join(t, NULL);
  CHECK(r.rc == TANDEM_ERR_UNAVAILABLE && r.event == NULL, "woken reader rc=%d", r.rc);
  CHECK(tandem_subscription_next(domain_events, 0, &event) == TANDEM_ERR_UNAVAILABLE, "closed stays closed");
  tandem_subscription_free(domain_events);

  /* Bad input: clear errors, state intact. */
  CHECK(tandem_model_apply(NULL, "[]", NULL) == TANDEM_ERR_INVALID_ARGUMENT, "null model");
  CHECK(tandem_model_apply(n1, "{not json", NULL) == TANDEM_ERR_INVALID_ARGUMENT, "bad json");
  CHECK(strstr(tandem_last_error_message(), "JSON") != NULL, "json message");
  CHECK(tandem_model_apply(n1, "{\"op\":\"splice\",\"path\":[\"text\"],\"index\":99,\"insert\":\"x\"}", NULL) ==
            TANDEM_ERR_INVALID_OPERATION, "out of range");
  tandem_model *nope = NULL;
  CHECK(tandem_domain_model(docs, "nope", &nope) == TANDEM_ERR_NOT_FOUND && !nope, "unknown model");
  CHECK(tandem_domain_create_model(docs, "notes", "n1", "{}", &nope) == TANDEM_ERR_ALREADY_EXISTS, "dup model");
  CHECK(tandem_domain_create_model(docs, "notes", NULL, "[1]", &nope) == TANDEM_ERR_INVALID_ARGUMENT, "array data");
  CHECK(tandem_model_json(n1, NULL) == TANDEM_ERR_INVALID_ARGUMENT, "null out");
  CHECK(tandem_model_json(n1, &text) == TANDEM_OK, "json again");
  expect_part(text, "\"hi there\"", "unchanged");
  CHECK(tandem_last_error_code() == TANDEM_OK && tandem_last_error_message()[0] == 0, "success clears the error");

  /* Identity and permissions: profiles, groups, collection and model rights, generic rows,
   * the domain's state and admin tokens; bad input is refused and changes nothing. */
  const char *bob = "{\"kind\":\"normal\",\"name\":\"bob\"}";
  const char *ghost = "{\"kind\":\"normal\",\"name\":\"ghost\"}";
  CHECK(tandem_domain_update_user(docs, "bob", "{\"display_name\":\"Bob\"}", &text) == TANDEM_OK, "update user");
  expect_part(text, "\"display_name\":\"Bob\"", "updated user");
  CHECK(tandem_domain_update_user(docs, "bob", "{\"nickname\":\"b\"}", NULL) == TANDEM_ERR_INVALID_ARGUMENT,
        "unknown profile field");
  CHECK(tandem_domain_set_user_disabled(docs, "bob", 1) == TANDEM_OK, "disable");
  CHECK(tandem_domain_user(docs, "bob", &text) == TANDEM_OK, "user");
  expect_part(text, "\"disabled\":true", "disabled user");
  CHECK(tandem_domain_set_user_disabled(docs, "bob", 0) == TANDEM_OK, "enable");
  CHECK(tandem_domain_user(docs, "ghost", &text) == TANDEM_ERR_NOT_FOUND, "unknown user");
  CHECK(tandem_domain_create_group(docs, "staff", NULL, &text) == TANDEM_OK, "group");
  expect_text(text, "{\"id\":\"staff\",\"description\":\"\",\"members\":[]}", "new group");
  CHECK(tandem_domain_create_group(docs, "staff", "again", NULL) == TANDEM_ERR_ALREADY_EXISTS, "dup group");
  CHECK(tandem_domain_set_group_description(docs, "staff", "Staff") == TANDEM_OK, "group description");
  CHECK(tandem_domain_add_group_member(docs, "staff", bob) == TANDEM_OK, "member");
  CHECK(tandem_domain_add_group_member(docs, "staff", ghost) == TANDEM_ERR_NOT_FOUND, "unknown member");
  CHECK(tandem_domain_add_group_member(docs, "staff", "{\"name\":\"bob\"}") == TANDEM_ERR_INVALID_ARGUMENT,
        "user without kind");
  CHECK(tandem_domain_group(docs, "staff", &text) == TANDEM_OK, "group");
  expect_text(text, "{\"id\":\"staff\",\"description\":\"Staff\",\"members\":[{\"kind\":\"normal\",\"name\":\"bob\"}]}",
              "group with member");
  CHECK(tandem_domain_user_groups(docs, bob, &text) == TANDEM_OK, "user groups");
  expect_text(text, "[\"staff\"]", "bob's groups");
  CHECK(tandem_domain_groups(docs, &text) == TANDEM_OK, "groups");
  expect_part(text, "\"id\":\"staff\"", "groups");
  CHECK(tandem_domain_remove_group_member(docs, "staff", bob) == TANDEM_OK, "remove member");

  CHECK(tandem_domain_set_collection_world(docs, "notes", "{\"read\":true}") == TANDEM_OK, "collection world");
  CHECK(tandem_domain_set_collection_world(docs, "notes", "{\"read\":true,\"fly\":true}") ==
            TANDEM_ERR_INVALID_ARGUMENT, "unknown collection right");
  CHECK(tandem_domain_set_collection_world(docs, "none", "{}") == TANDEM_ERR_NOT_FOUND, "unknown collection");
  CHECK(tandem_domain_set_collection_user(docs, "notes", bob, "{\"write\":true,\"read\":true}") == TANDEM_OK,
        "collection user");
  CHECK(tandem_domain_set_collection_user(docs, "notes", ghost, "{}") == TANDEM_ERR_NOT_FOUND, "unknown user");
  CHECK(tandem_domain_collection_permissions(docs, "notes", &text) == TANDEM_OK, "collection permissions");
  expect_text(text,
              "{\"world\":{\"create\":false,\"read\":true,\"write\":false,\"remove\":false,\"manage\":false},"
              "\"users\":[[{\"kind\":\"normal\",\"name\":\"bob\"},"
              "{\"create\":false,\"read\":true,\"write\":true,\"remove\":false,\"manage\":false}]]}",
              "collection permissions");
  CHECK(tandem_model_rights_of(n1, bob, &text) == TANDEM_OK, "rights of bob");
  expect_text(text, "{\"read\":true,\"write\":true,\"remove\":false,\"manage\":false}", "collection user rights");
  CHECK(tandem_model_set_permissions(n1, "{\"override_world\":true,\"world\":{\"read\":true}}") == TANDEM_OK,
        "model world");
  CHECK(tandem_model_set_permissions(n1, "{\"set_users\":[[{\"kind\":\"normal\",\"name\":\"bob\"},{}]]}") ==
            TANDEM_OK, "model user without rights");
  CHECK(tandem_model_rights_of(n1, bob, &text) == TANDEM_OK, "rights of bob");
  expect_text(text, "{\"read\":false,\"write\":false,\"remove\":false,\"manage\":false}", "model user entry");
  CHECK(tandem_model_permissions(n1, &text) == TANDEM_OK, "model permissions");
  expect_part(text, "\"override_world\":true", "model permissions");
  CHECK(tandem_model_set_permissions(n1, "{\"world\":\"all\"}") == TANDEM_ERR_INVALID_ARGUMENT, "bad change");
  CHECK(tandem_model_rights_of(n1, "not json", &text) == TANDEM_ERR_INVALID_ARGUMENT, "bad user json");

  const char *chat = "{\"kind\":\"chat\",\"id\":\"lobby\"}";
  CHECK(tandem_domain_permissions(docs, chat, &text) == TANDEM_ERR_NOT_FOUND, "rows of a missing chat");
  char *lobby_id = NULL;
  CHECK(tandem_domain_create_chat(docs, "{\"id\":\"lobby\",\"kind\":\"channel\"}", &lobby_id) == TANDEM_OK,
        "create the chat");
  tandem_string_free(lobby_id);
  CHECK(tandem_domain_change_permissions(docs, chat, "{\"add\":{\"world\":[\"join_chat\"]}}") == TANDEM_OK,
        "chat world");
  CHECK(tandem_domain_change_permissions(docs, chat, "{\"add\":{\"world\":[\"fly\"]}}") ==
            TANDEM_ERR_INVALID_ARGUMENT, "unknown chat permission");
  CHECK(tandem_domain_permissions(docs, chat, &text) == TANDEM_OK, "chat permissions");
  expect_text(text, "{\"world\":[\"join_chat\"],\"users\":[],\"groups\":[]}", "chat rows");
  CHECK(tandem_domain_resolve_permissions(docs, chat, bob, &text) == TANDEM_OK, "resolve");
  expect_text(text, "[\"join_chat\"]", "bob on the chat");
  CHECK(tandem_domain_permissions(docs, "{\"kind\":\"room\"}", &text) == TANDEM_ERR_INVALID_ARGUMENT, "bad target");

  /* Activities: create with rows, exists, participants, rows on an activity, delete. */
  bool exists = true;
  CHECK(tandem_domain_activity_exists(docs, "doc", "a1", &exists) == TANDEM_OK && !exists, "no activity yet");
  CHECK(tandem_domain_create_activity(docs, "doc", "a1", "{\"world\":[\"join\",\"view_state\"]}") == TANDEM_OK,
        "create activity");
  CHECK(tandem_domain_create_activity(docs, "doc", "a1", NULL) == TANDEM_ERR_ALREADY_EXISTS, "activity twice");
  CHECK(tandem_domain_create_activity(docs, "doc", "a2", "{\"world\":[\"fly\"]}") == TANDEM_ERR_INVALID_ARGUMENT,
        "unknown activity permission");
  CHECK(tandem_domain_create_activity(docs, "doc", "a2", "not json") == TANDEM_ERR_INVALID_ARGUMENT, "bad rows");
  CHECK(tandem_domain_create_activity(docs, NULL, "a2", NULL) == TANDEM_ERR_INVALID_ARGUMENT, "null type");
  CHECK(tandem_domain_activity_exists(docs, "doc", "a1", &exists) == TANDEM_OK && exists, "activity exists");
  CHECK(tandem_domain_activity_exists(docs, "doc", "a1", NULL) == TANDEM_ERR_INVALID_ARGUMENT, "null out_exists");
  CHECK(tandem_domain_activity_participants(docs, "doc", "a1", &text) == TANDEM_OK, "participants");
  expect_text(text, "[]", "nobody in the activity");
  const char *a1 = "{\"kind\":\"activity\",\"type\":\"doc\",\"id\":\"a1\"}";
  const char *a2 = "{\"kind\":\"activity\",\"type\":\"doc\",\"id\":\"a2\"}";
  CHECK(tandem_domain_permissions(docs, a1, &text) == TANDEM_OK, "activity rows");
  expect_text(text, "{\"world\":[\"join\",\"view_state\"],\"users\":[],\"groups\":[]}", "activity rows");
  CHECK(tandem_domain_change_permissions(docs, a1, "{\"add\":{\"users\":[[{\"kind\":\"normal\",\"name\":\"bob\"},"
                                                   "[\"manage\"]]]}}") == TANDEM_OK,
        "activity user row");
  CHECK(tandem_domain_resolve_permissions(docs, a1, bob, &text) == TANDEM_OK, "resolve on the activity");
  expect_text(text, "[\"join\",\"manage\",\"view_state\"]", "bob on the activity");
  CHECK(tandem_domain_permissions(docs, a2, &text) == TANDEM_ERR_NOT_FOUND, "rows of a missing activity");
  CHECK(tandem_domain_change_permissions(docs, a2, "{\"add\":{\"world\":[\"join\"]}}") == TANDEM_ERR_NOT_FOUND,
        "change on a missing activity");
  CHECK(tandem_domain_delete_activity(docs, "doc", "a1") == TANDEM_OK, "delete activity");
  CHECK(tandem_domain_activity_exists(docs, "doc", "a1", &exists) == TANDEM_OK && !exists, "activity gone");
  CHECK(tandem_domain_delete_activity(docs, "doc", "a1") == TANDEM_ERR_NOT_FOUND, "delete twice");
  CHECK(tandem_domain_activity_participants(docs, "doc", "a1", &text) == TANDEM_ERR_NOT_FOUND,
        "participants of a missing activity");
  CHECK(tandem_domain_delete_group(docs, "staff") == TANDEM_OK, "delete group");
  CHECK(tandem_domain_group(docs, "staff", &text) == TANDEM_ERR_NOT_FOUND, "group gone");

  CHECK(tandem_domain_set_state(docs, "maintenance") == TANDEM_OK, "maintenance");
  CHECK(tandem_domain_set_state(docs, "asleep") == TANDEM_ERR_INVALID_ARGUMENT, "unknown state");
  CHECK(tandem_domain_settings(docs, &text) == TANDEM_OK, "settings");
  expect_part(text, "\"state\":\"maintenance\"", "state");
  CHECK(tandem_domain_set_settings(docs, "{\"default_collection_world\":[\"read\",\"fly\"]}") ==
            TANDEM_ERR_INVALID_ARGUMENT, "unknown default collection permission");
  CHECK(tandem_domain_set_settings(docs, "{\"reconnect_token_minutes\":5,\"default_collection_world\":[\"read\"]}") ==
            TANDEM_OK, "settings");
  CHECK(tandem_domain_settings(docs, &text) == TANDEM_OK, "settings");
  CHECK(text && strstr(text, "\"state\":\"online\"") && strstr(text, "\"reconnect_token_minutes\":5") &&
            strstr(text, "\"default_collection_world\":[\"read\"]"),
        "settings %s", SHOW(text));
  tandem_string_free(text);
  CHECK(tandem_domain_admin_token(docs, "admin", 60, &text) == TANDEM_OK, "admin token");
  CHECK(text && strchr(text, '.') && strchr(strchr(text, '.') + 1, '.'), "token %s", SHOW(text));
  tandem_string_free(text);
  CHECK(tandem_domain_admin_token(docs, "admin", 0, &text) == TANDEM_ERR_INVALID_ARGUMENT, "no lifetime");
  CHECK(tandem_domain_admin_token(docs, "admin", 60, NULL) == TANDEM_ERR_INVALID_ARGUMENT, "null out token");

  tandem_model *same = NULL;
  CHECK(tandem_domain_model(again, "n1", &same) == TANDEM_OK, "model handle");
  CHECK(tandem_model_delete(same) == TANDEM_OK, "delete");
  CHECK(tandem_model_json(n1, &text) == TANDEM_ERR_NOT_FOUND, "deleted model through the other handle");
  tandem_model_free(same);

  check_chats(engine);
  check_undo(engine);
  check_operators(engine);
  check_webhooks(engine);

  CHECK(tandem_engine_stop_listening(engine) == TANDEM_OK, "stop listening");
  CHECK(tandem_engine_stop_listening(engine) == TANDEM_ERR_NOT_FOUND, "not listening");
  CHECK(tandem_engine_shutdown(engine) == TANDEM_OK, "shutdown");
  CHECK(tandem_engine_shutdown(engine) == TANDEM_OK, "shutdown is idempotent");
  CHECK(tandem_engine_create_domain(engine, "x", "y", NULL, NULL) == TANDEM_ERR_UNAVAILABLE, "engine after shutdown");
  CHECK(tandem_domain_create_collection(docs, "late") == TANDEM_ERR_UNAVAILABLE, "domain after shutdown");
  CHECK(tandem_model_json(generated, &text) == TANDEM_ERR_UNAVAILABLE, "model after shutdown");
  tandem_subscription *late = NULL;
  CHECK(tandem_engine_subscribe(engine, &late) == TANDEM_ERR_UNAVAILABLE && !late, "subscribe after shutdown");
  CHECK(tandem_subscription_next(model_events, -1, &event) == TANDEM_ERR_UNAVAILABLE, "subscription ends");

  tandem_subscription_free(model_events);
  tandem_model_free(n1);
  tandem_model_free(generated);
  tandem_domain_free(docs);
  tandem_domain_free(again);
  tandem_engine_free(engine);
  tandem_engine_free(NULL);
  tandem_domain_free(NULL);
  tandem_model_free(NULL);
  tandem_subscription_free(NULL);
  tandem_string_free(NULL);

  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);

  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("C ABI: all checks passed\n");
  return 0;
}
