/* A C host embedding Tandem: opens a durable engine, serves the Convergence client on a port,
 * prints every operation applied, and writes the model's JSON when the last session leaves.
 * Build and run: ./run.sh (Ctrl-C to stop). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tandem.h"

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void on_event(const char *json, void *user_data) {
  TandemEngine *engine = (TandemEngine *)user_data;
  printf("event: %s\n", json);
  if (strstr(json, "\"type\":\"last_session_left\"")) {
    char *data = NULL;
    if (tandem_model_json(engine, "demo", "default", "shared-textarea", 0, &data) == TANDEM_OK) {
      FILE *f = fopen("shared-textarea.json", "w");
      if (f) {
        fputs(data, f);
        fclose(f);
        printf("saved shared-textarea.json\n");
      }
      tandem_string_free(data);
    }
  }
  fflush(stdout);
}

int main(void) {
  TandemEngine *engine = tandem_engine_new("{\"data_dir\": \"tandem-c-data\"}");
  if (!engine) {
    fprintf(stderr, "cannot open the engine: %s\n", tandem_last_error_message());
    return 1;
  }
  /* Ignore "already exists" on later runs. */
  tandem_domain_create(engine, "demo", "default", "{\"anonymous_auth\": true}");
  char *addr = NULL;
  if (tandem_engine_listen(engine, "127.0.0.1:8000", NULL, &addr) != TANDEM_OK) {
    fprintf(stderr, "cannot listen: %s\n", tandem_last_error_message());
    tandem_engine_free(engine);
    return 1;
  }
  printf("Convergence clients connect to ws://%s/realtime/demo/default\n", addr);
  tandem_string_free(addr);
  TandemSubscription *sub = NULL;
  tandem_subscribe(engine, "demo", "default", NULL, on_event, engine, &sub);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!stop) sleep(1);
  tandem_subscription_free(sub);
  tandem_engine_free(engine); /* stops listening, flushes, frees */
  return 0;
}
