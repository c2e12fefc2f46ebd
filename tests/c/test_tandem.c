/* Exercises the Tandem C ABI: engine, listener, domains, users, models, changes, events, errors,
 * use after shutdown, and freeing everything (run under valgrind by run.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

struct events {
  pthread_mutex_t lock;
  int applied;
  int last_version;
  char last_model[64];
};

static void on_event(const char *json, void *user_data) {
  struct events *ev = (struct events *)user_data;
  pthread_mutex_lock(&ev->lock);
  if (strstr(json, "\"type\":\"operation_applied\"")) {
    ev->applied++;
    const char *v = strstr(json, "\"version\":");
    if (v) ev->last_version = atoi(v + 10);
    const char *m = strstr(json, "\"model\":\"");
    if (m) {
      m += 9;
      size_t n = strcspn(m, "\"");
      if (n >= sizeof ev->last_model) n = sizeof ev->last_model - 1;
      memcpy(ev->last_model, m, n);
      ev->last_model[n] = 0;
    }
  }
  pthread_mutex_unlock(&ev->lock);
}

int main(void) {
  CHECK(tandem_abi_version() == TANDEM_ABI_VERSION, "abi version");

  /* Bad configuration: a clear error, no engine. */
  TandemEngine *bad = tandem_engine_new("{\"data_dri\": \"/tmp/x\"}");
  CHECK(bad == NULL, "bad config gives NULL");
  CHECK(tandem_last_error_code() == TANDEM_CONFIG, "bad config code");
  CHECK(strstr(tandem_last_error_message(), "data_dri") != NULL, "message names the field");

  char dir[] = "/tmp/tandem-c-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char config[256];
  /* A modest map size: valgrind limits the address space a process may reserve. */
  snprintf(config, sizeof config, "{\"data_dir\": \"%s\", \"store\": {\"max_size_mb\": 512}}", dir);
  TandemEngine *engine = tandem_engine_new(config);
  CHECK(engine != NULL, "engine");
  if (!engine) return 1;

  char *addr = NULL;
  CHECK(tandem_engine_listen(engine, "127.0.0.1:0", NULL, &addr) == TANDEM_OK, "listen");
  CHECK(addr && strncmp(addr, "127.0.0.1:", 10) == 0, "bound address %s", addr ? addr : "(null)");
  tandem_string_free(addr);

  CHECK(tandem_domain_create(engine, "acme", "docs", "{\"anonymous_auth\": true}") == TANDEM_OK, "domain");
  CHECK(tandem_domain_create(engine, "acme", "docs", NULL) == TANDEM_ALREADY_EXISTS, "duplicate domain");
  char *list = NULL;
  CHECK(tandem_domain_list(engine, &list) == TANDEM_OK, "domain list");
  CHECK(list && strcmp(list, "[{\"domain\":\"docs\",\"namespace\":\"acme\"}]") == 0, "domains %s", list);
  tandem_string_free(list);

  CHECK(tandem_user_create(engine, "acme", "docs", "{\"username\":\"bob\",\"password\":\"pw\"}") == TANDEM_OK, "user");
  CHECK(tandem_user_set_password(engine, "acme", "docs", "bob", "pw2") == TANDEM_OK, "passwd");
  CHECK(tandem_user_set_password(engine, "acme", "docs", "nobody", "x") == TANDEM_NOT_FOUND, "passwd unknown user");
  CHECK(tandem_collection_create(engine, "acme", "docs", "notes") == TANDEM_OK, "collection");

  struct events ev = {PTHREAD_MUTEX_INITIALIZER, 0, 0, ""};
  TandemSubscription *sub = NULL;
  CHECK(tandem_subscribe(engine, "acme", "docs", NULL, on_event, &ev, &sub) == TANDEM_OK, "subscribe");

  char *id = NULL;
  CHECK(tandem_model_create(engine, "acme", "docs", "notes", "n1", "{\"text\":\"hi\",\"n\":1}", &id) == TANDEM_OK, "model");
  CHECK(id && strcmp(id, "n1") == 0, "model id");
  tandem_string_free(id);

  uint64_t version = 0;
  CHECK(tandem_model_apply(engine, "acme", "docs", "n1",
                           "[{\"op\":\"splice\",\"path\":[\"text\"],\"index\":2,\"insert\":\" there\"},"
                           "{\"op\":\"add\",\"path\":[\"n\"],\"delta\":41}]",
                           &version) == TANDEM_OK, "apply");
  CHECK(version == 2, "version %llu", (unsigned long long)version);

  char *json = NULL;
  CHECK(tandem_model_json(engine, "acme", "docs", "n1", 0, &json) == TANDEM_OK, "json");
  CHECK(json && strcmp(json, "{\"n\":42,\"text\":\"hi there\"}") == 0, "data %s", json);
  tandem_string_free(json);
  CHECK(tandem_model_json(engine, "acme", "docs", "n1", 1, &json) == TANDEM_OK, "json at v1");
  CHECK(json && strcmp(json, "{\"n\":1,\"text\":\"hi\"}") == 0, "data at v1 %s", json);
  tandem_string_free(json);

  /* The event arrives on the engine's thread. */
  for (int i = 0; i < 200; i++) {
    pthread_mutex_lock(&ev.lock);
    int seen = ev.applied;
    pthread_mutex_unlock(&ev.lock);
    if (seen >= 1) break;
    usleep(10000);
  }
  pthread_mutex_lock(&ev.lock);
  CHECK(ev.applied == 1 && ev.last_version == 2 && strcmp(ev.last_model, "n1") == 0,
        "event applied=%d version=%d model=%s", ev.applied, ev.last_version, ev.last_model);
  pthread_mutex_unlock(&ev.lock);

  /* Bad input: clear errors, state intact. */
  CHECK(tandem_model_apply(NULL, "acme", "docs", "n1", "[]", NULL) == TANDEM_INVALID_ARGUMENT, "null engine");
  CHECK(tandem_model_apply(engine, "acme", "docs", "n1", "{not json", NULL) == TANDEM_INVALID_ARGUMENT, "bad json");
  CHECK(strstr(tandem_last_error_message(), "JSON") != NULL, "json message");
  CHECK(tandem_model_apply(engine, "acme", "docs", "n1",
                           "{\"op\":\"splice\",\"path\":[\"text\"],\"index\":99,\"insert\":\"x\"}", NULL) == TANDEM_INVALID_OPERATION,
        "out of range");
  CHECK(tandem_model_apply(engine, "acme", "docs", "nope", "[]", NULL) == TANDEM_NOT_FOUND, "unknown model");
  CHECK(tandem_model_create(engine, "acme", "docs", "notes", "n1", "{}", NULL) == TANDEM_ALREADY_EXISTS, "dup model");
  CHECK(tandem_model_create(engine, "acme", "docs", "notes", NULL, "[1]", NULL) == TANDEM_INVALID_ARGUMENT, "array data");
  CHECK(tandem_model_json(engine, "acme", "docs", "n1", 0, NULL) == TANDEM_INVALID_ARGUMENT, "null out");
  CHECK(tandem_model_json(engine, "acme", "docs", "n1", 0, &json) == TANDEM_OK, "json again");
  CHECK(json && strcmp(json, "{\"n\":42,\"text\":\"hi there\"}") == 0, "unchanged %s", json);
  tandem_string_free(json);
  CHECK(tandem_last_error_code() == TANDEM_OK && tandem_last_error_message()[0] == 0, "success clears the error");

  CHECK(tandem_model_delete(engine, "acme", "docs", "n1") == TANDEM_OK, "delete");
  CHECK(tandem_model_json(engine, "acme", "docs", "n1", 0, &json) == TANDEM_NOT_FOUND, "deleted");

  tandem_subscription_free(sub);
  CHECK(tandem_engine_stop_listening(engine) == TANDEM_OK, "stop listening");
  CHECK(tandem_engine_shutdown(engine) == TANDEM_OK, "shutdown");
  CHECK(tandem_domain_create(engine, "x", "y", NULL) == TANDEM_UNAVAILABLE, "use after shutdown");
  tandem_engine_free(engine);
  tandem_engine_free(NULL);
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
