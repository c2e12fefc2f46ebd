/* A C host embedding Tandem: opens a durable engine, keeps a shared model
 * ("shared-textarea" in domain demo/default), counts its starts in the model, serves the
 * Convergence client on a port, and publishes the model's JSON as a static file whenever an
 * operation is applied, so that plain HTTP clients see the collaborative document:
 *
 *   ./run.sh [DATA_DIR [ADDRESS [PUBLIC_DIR]]]   (defaults: tandem-c-data 127.0.0.1:8000 public)
 *   curl http://ADDRESS/shared-textarea.json
 *
 * Ctrl-C (or SIGTERM) closes the event subscription from a signal thread, which wakes the main
 * loop blocked in tandem_subscription_next. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tandem.h"

static int fail(const char *what) {
  fprintf(stderr, "%s: %s (%s)\n", what, tandem_last_error_message(),
          tandem_error_name(tandem_last_error_code()));
  return 1;
}

/* Writes the model's current JSON to PUBLIC_DIR/shared-textarea.json (atomically). */
static void publish(const tandem_model *model, const char *public_dir) {
  char *json = NULL;
  if (tandem_model_json(model, &json) != TANDEM_OK) {
    fail("cannot read the model");
    return;
  }
  char tmp[512], path[512];
  snprintf(tmp, sizeof tmp, "%s/.shared-textarea.json.tmp", public_dir);
  snprintf(path, sizeof path, "%s/shared-textarea.json", public_dir);
  FILE *f = fopen(tmp, "w");
  if (f) {
    fputs(json, f);
    if (fclose(f) == 0 && rename(tmp, path) == 0) printf("published %s: %s\n", path, json);
  }
  tandem_string_free(json);
}

struct stopper {
  sigset_t signals;
  const tandem_subscription *events;
};

/* Waits for Ctrl-C or SIGTERM, then closes the subscription (any thread may). */
static void *stop_on_signal(void *arg) {
  struct stopper *s = (struct stopper *)arg;
  int sig = 0;
  sigwait(&s->signals, &sig);
  tandem_subscription_close(s->events);
  return NULL;
}

int main(int argc, char **argv) {
  const char *data_dir = argc > 1 ? argv[1] : "tandem-c-data";
  const char *address = argc > 2 ? argv[2] : "127.0.0.1:8000";
  const char *public_dir = argc > 3 ? argv[3] : "public";
  if (strpbrk(data_dir, "\"\\") || strpbrk(public_dir, "\"\\")) {
    fprintf(stderr, "directory names must not contain quotes or backslashes\n");
    return 2;
  }
  mkdir(public_dir, 0755);

  /* Block the stop signals before the engine starts its threads: they inherit the mask, and
   * the signal thread alone receives them. */
  struct stopper stopper;
  sigemptyset(&stopper.signals);
  sigaddset(&stopper.signals, SIGINT);
  sigaddset(&stopper.signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopper.signals, NULL);

  char config[600];
  snprintf(config, sizeof config, "{\"data_dir\": \"%s\"}", data_dir);
  tandem_engine *engine = NULL;
  if (tandem_engine_open(config, &engine) != TANDEM_OK) return fail("cannot open the engine");

  /* The domain and model survive restarts: create them on the first run only. */
  tandem_domain *domain = NULL;
  if (tandem_engine_create_domain(engine, "demo", "default", "{\"anonymous_auth\": true}", &domain) ==
      TANDEM_ERR_ALREADY_EXISTS)
    tandem_engine_domain(engine, "demo", "default", &domain);
  if (!domain) return fail("cannot open the domain");
  tandem_model *model = NULL;
  if (tandem_domain_model(domain, "shared-textarea", &model) == TANDEM_ERR_NOT_FOUND)
    tandem_domain_create_model(domain, "docs", "shared-textarea", "{\"text\": \"Hello from C\", \"starts\": 0}",
                               &model);
  if (!model) return fail("cannot open the model");

  tandem_subscription *events = NULL;
  if (tandem_model_subscribe(model, &events) != TANDEM_OK) return fail("cannot subscribe");
  uint64_t version = 0;
  if (tandem_model_apply(model, "{\"op\": \"add\", \"path\": [\"starts\"], \"delta\": 1}", &version) != TANDEM_OK)
    return fail("cannot count the start");

  char net[600];
  snprintf(net, sizeof net, "{\"static_dir\": \"%s\"}", public_dir);
  char *bound = NULL;
  if (tandem_engine_listen(engine, address, net, &bound) != TANDEM_OK) return fail("cannot listen");
  printf("serving http://%s/shared-textarea.json; Convergence clients connect to ws://%s/realtime/demo/default\n",
         bound, bound);
  fflush(stdout);
  tandem_string_free(bound);

  stopper.events = events;
  pthread_t signal_thread;
  pthread_create(&signal_thread, NULL, stop_on_signal, &stopper);

  /* Every event of the model, starting with this start's own change, until stopped. */
  char *event = NULL;
  while (tandem_subscription_next(events, -1, &event) == TANDEM_OK) {
    if (!event) continue;
    printf("event: %s\n", event);
    if (strstr(event, "\"type\":\"operation_applied\"") || strstr(event, "\"type\":\"last_session_left\""))
      publish(model, public_dir);
    fflush(stdout);
    tandem_string_free(event);
  }
  pthread_join(signal_thread, NULL);
  printf("stopping at version %llu or later\n", (unsigned long long)version);

  tandem_subscription_free(events);
  tandem_model_free(model);
  tandem_domain_free(domain);
  tandem_engine_free(engine); /* stops listening, flushes, releases the data directory */
  return 0;
}
