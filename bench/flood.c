/* bench/flood.c: the bad half of `make bench`'s mixed load. Publishes COUNT malformed or oversized
 * requests on josev/cs at full speed (QoS 1 as Josev publishes, up to 256 unacknowledged), cycling
 * through four kinds of bad input, with one oversized payload (OVERSIZED_BYTES, above the daemon's
 * 256 KiB limit) every OVERSIZED_EVERY messages:
 *   - invalid JSON (a request cut short),
 *   - valid JSON of the wrong shape (data a string, type unknown),
 *   - an unknown message name,
 *   - an envelope whose id is not a UUID and whose name is a number.
 * None of them carries the load generator's id prefix, so its matching is not disturbed. Waits until
 * the broker has acknowledged every message; prints one JSON object (counts by kind, bytes, time).
 * Exit 0 when every message was acknowledged, 1 otherwise, 2 on usage errors.
 *
 *   flood HOST PORT COUNT OVERSIZED_EVERY OVERSIZED_BYTES
 */
#include <mosquitto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acknowledged = PTHREAD_COND_INITIALIZER;
static long acked, connected = -1;

static uint64_t now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void on_connect(struct mosquitto *mosq, void *user, int rc) {
  (void)mosq, (void)user;
  pthread_mutex_lock(&lock);
  connected = rc;
  pthread_cond_broadcast(&acknowledged);
  pthread_mutex_unlock(&lock);
}

static void on_publish(struct mosquitto *mosq, void *user, int mid) {
  (void)mosq, (void)user, (void)mid;
  pthread_mutex_lock(&lock);
  acked++;
  pthread_cond_broadcast(&acknowledged);
  pthread_mutex_unlock(&lock);
}

/* Waits until at most `outstanding` published messages are unacknowledged; false after 10 s of no progress. */
static bool wait_acked(long published, long outstanding) {
  pthread_mutex_lock(&lock);
  long seen = acked;
  uint64_t last = now_ns();
  while (published - acked > outstanding) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100000000;
    if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&acknowledged, &lock, &until);
    if (acked != seen) seen = acked, last = now_ns();
    else if (now_ns() - last > 10000000000u) break;
  }
  bool ok = published - acked <= outstanding;
  pthread_mutex_unlock(&lock);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: flood HOST PORT COUNT OVERSIZED_EVERY OVERSIZED_BYTES\n");
    return 2;
  }
  long count = atol(argv[3]), oversized_every = atol(argv[4]), oversized_bytes = atol(argv[5]);
  if (count < 1 || oversized_every < 1 || oversized_bytes < 64) {
    fprintf(stderr, "flood: bad arguments\n");
    return 2;
  }
  /* The oversized payload: a well-formed request whose data pads it past the limit. */
  char *oversized = malloc((size_t)oversized_bytes);
  if (!oversized) return 2;
  static const char head[] = "{\"id\":\"ffffffff-ffff-4fff-8fff-ffffffffffff\",\"name\":\"cs_status_and_limits\",\"type\":\"request\",\"data\":{\"pad\":\"";
  memset(oversized, 'x', (size_t)oversized_bytes);
  memcpy(oversized, head, sizeof head - 1);
  memcpy(oversized + oversized_bytes - 3, "\"}}", 3);

  char bad[256];
  const char *kinds[] = {"invalid_json", "wrong_shape", "unknown_name", "bad_envelope"};
  long by_kind[4] = {0}, oversized_count = 0, bytes = 0;

  mosquitto_lib_init();
  char client_id[64];
  snprintf(client_id, sizeof client_id, "bench-flood-%d", (int)getpid());
  struct mosquitto *mosq = mosquitto_new(client_id, true, NULL);
  if (!mosq) return 2;
  mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_max_inflight_messages_set(mosq, 0);
  mosquitto_connect_callback_set(mosq, on_connect);
  mosquitto_publish_callback_set(mosq, on_publish);
  int rc = mosquitto_connect(mosq, argv[1], atoi(argv[2]), 60);
  if (rc != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "flood: %s\n", mosquitto_strerror(rc));
    return 1;
  }
  mosquitto_loop_start(mosq);
  pthread_mutex_lock(&lock);
  while (connected < 0) pthread_cond_wait(&acknowledged, &lock);
  pthread_mutex_unlock(&lock);
  if (connected != 0) {
    fprintf(stderr, "flood: connection refused (%ld)\n", connected);
    return 1;
  }

  uint64_t start = now_ns();
  long published = 0, errors = 0;
  bool stalled = false;
  for (long i = 0; i < count; i++) {
    const char *payload;
    int length;
    if ((i + 1) % oversized_every == 0) {
      payload = oversized, length = (int)oversized_bytes;
      oversized_count++;
    } else {
      int kind = (int)(i % 4);
      /* ids of the form eeeeeeee-…-<index>: never the load generator's random prefix */
      switch (kind) {
      case 0:
        length = snprintf(bad, sizeof bad, "{\"id\":\"eeeeeeee-eeee-4eee-8eee-%012lx\",\"name\":\"cs_status_and_li", i);
        break;
      case 1:
        length = snprintf(bad, sizeof bad,
                          "{\"id\":\"eeeeeeee-eeee-4eee-8eee-%012lx\",\"name\":\"cs_status_and_limits\",\"type\":\"banana\",\"data\":\"x\"}", i);
        break;
      case 2:
        length = snprintf(bad, sizeof bad, "{\"id\":\"eeeeeeee-eeee-4eee-8eee-%012lx\",\"name\":\"no_such_message_%ld\",\"type\":\"request\",\"data\":{}}", i,
                          i % 97);
        break;
      default:
        length = snprintf(bad, sizeof bad, "{\"id\":%ld,\"name\":17,\"type\":[\"request\"],\"data\":null}", i);
        break;
      }
      payload = bad;
      by_kind[kind]++;
    }
    if (mosquitto_publish(mosq, NULL, "josev/cs", length, payload, 1, false) != MOSQ_ERR_SUCCESS) {
      errors++;
      continue;
    }
    published++;
    bytes += length;
    if (!wait_acked(published, WINDOW)) {
      stalled = true;
      break;
    }
  }
  bool done = !stalled && wait_acked(published, 0);
  double elapsed = (double)(now_ns() - start) / 1e9;
  mosquitto_disconnect(mosq);
  mosquitto_loop_stop(mosq, false);
  printf("{\"requests\":%ld,\"published\":%ld,\"acknowledged\":%ld,\"errors\":%ld,\"%s\":%ld,\"%s\":%ld,\"%s\":%ld,\"%s\":%ld,"
         "\"oversized\":%ld,\"oversized_bytes\":%ld,\"bytes\":%ld,\"elapsed_s\":%.3f,\"per_s\":%.0f}\n",
         count, published, acked, errors, kinds[0], by_kind[0], kinds[1], by_kind[1], kinds[2], by_kind[2], kinds[3],
         by_kind[3], oversized_count, oversized_bytes, bytes, elapsed, elapsed > 0 ? (double)published / elapsed : 0);
  mosquitto_destroy(mosq);
  mosquitto_lib_cleanup();
  free(oversized);
  return done && errors == 0 ? 0 : 1;
}
