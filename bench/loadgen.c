/* bench/loadgen.c: the load generator of `make bench` (plays Josev). N cs_status_and_limits
 * requests on josev/cs with at most K outstanding; answers on cs/josev are matched by id (the id
 * encodes the request's index, read straight from the bytes). Every answer must carry a known id,
 * "name":"cs_status_and_limits" and "type":"response"; the distinct answers (id replaced by a fixed UUID) are written
 * to OUT_DIR/answer-<n>.json so that the caller can check them against the schema. Prints one JSON
 * object. Exit 0 when every request got exactly one correct answer, 1 otherwise, 2 on usage errors.
 * With STOP_FILE, sends no more requests once that file exists (the mixed load: correct requests only
 * while the flood lasts); REQUESTS is then a maximum, and "requests" in the output counts those sent.
 *
 *   loadgen HOST PORT QOS REQUESTS IN_FLIGHT TIMEOUT_S OUT_DIR [STOP_FILE]
 */
#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ID_LENGTH 36
#define MAX_DISTINCT 8
#define MAX_ANSWER 65536

static char prefix[25]; /* xxxxxxxx-xxxx-4xxx-8xxx- */
static char request_head[] = "{\"id\":\"";
static const char request_tail[] = "\",\"name\":\"cs_status_and_limits\",\"type\":\"request\",\"data\":{}}";
static char request[256];
static size_t request_length;
static size_t digits_offset;

static long total, in_flight;
static int qos;
static uint8_t *status; /* 0 not sent, 1 outstanding, 2 answered */
static uint64_t *sent_at, *latencies;
static long next_index, answered, wrong, late, duplicates, send_errors, distinct, foreign;
static uint64_t first_send, last_done;
static char *distinct_answers[MAX_DISTINCT];
static int distinct_lengths[MAX_DISTINCT];
static char first_problem[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t progress = PTHREAD_COND_INITIALIZER;
static bool subscribed, stopped;
static const char *stop_file;

static uint64_t now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void send_next(struct mosquitto *mosq, uint64_t now) {
  if (next_index >= total || stopped) return;
  if (stop_file && access(stop_file, F_OK) == 0) {
    stopped = true;
    return;
  }
  long index = next_index++;
  static const char hex[] = "0123456789abcdef";
  uint64_t value = (uint64_t)index;
  for (int position = 11; position >= 0; position--) {
    request[digits_offset + (size_t)position] = hex[value & 0xF];
    value >>= 4;
  }
  status[index] = 1;
  sent_at[index] = now;
  if (mosquitto_publish(mosq, NULL, "josev/cs", (int)request_length, request, qos, false) != MOSQ_ERR_SUCCESS) {
    status[index] = 2;
    send_errors++;
  }
}

static void problem(const char *text) {
  if (!first_problem[0]) snprintf(first_problem, sizeof first_problem, "%s", text);
}

static void keep_distinct(const char *payload, int length) {
  if (length > MAX_ANSWER) return;
  static char blanked[MAX_ANSWER];
  memcpy(blanked, payload, (size_t)length);
  char *id = memmem(blanked, (size_t)length, "\"id\":\"", 6);
  /* a fixed, valid UUIDv4 in place of the id, so that answers differing only by id compare equal */
  if (id && id + 6 + ID_LENGTH <= blanked + length) memcpy(id + 6, "00000000-0000-4000-8000-000000000000", ID_LENGTH);
  for (long i = 0; i < distinct; i++)
    if (distinct_lengths[i] == length && memcmp(distinct_answers[i], blanked, (size_t)length) == 0) return;
  if (distinct >= MAX_DISTINCT) return;
  distinct_answers[distinct] = malloc((size_t)length);
  if (!distinct_answers[distinct]) return;
  memcpy(distinct_answers[distinct], blanked, (size_t)length);
  distinct_lengths[distinct] = length;
  distinct++;
}

static void on_message(struct mosquitto *mosq, void *user, const struct mosquitto_message *message) {
  (void)user;
  uint64_t now = now_ns();
  const char *payload = message->payload;
  int length = message->payloadlen;
  const char *id = memmem(payload, (size_t)length, "\"id\":\"", 6);
  pthread_mutex_lock(&lock);
  if (!id || id + 6 + ID_LENGTH >= payload + length || memcmp(id + 6, prefix, 24) != 0) {
    foreign++; /* not an answer to us (e.g. a cs_status_and_limits update) */
    pthread_mutex_unlock(&lock);
    return;
  }
  long index = 0;
  for (int i = 0; i < 12; i++) {
    char c = id[6 + 24 + i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) { index = -1; break; }
    index = index << 4 | digit;
  }
  if (index < 0 || index >= total) {
    wrong++;
    problem("an answer carries an id that was never sent");
  } else if (status[index] == 2) {
    duplicates++;
  } else if (status[index] == 0) {
    late++;
  } else {
    status[index] = 2;
    bool name_ok = memmem(payload, (size_t)length, "\"name\":\"cs_status_and_limits\"", 29) != NULL;
    bool type_ok = memmem(payload, (size_t)length, "\"type\":\"response\"", 17) != NULL;
    if (!name_ok || !type_ok) {
      wrong++;
      problem(!name_ok ? "an answer does not carry name cs_status_and_limits" : "an answer does not carry type response");
    }
    latencies[answered++] = now - sent_at[index];
    keep_distinct(payload, length);
    last_done = now;
    send_next(mosq, now);
    pthread_cond_signal(&progress);
  }
  pthread_mutex_unlock(&lock);
}

static void on_connect(struct mosquitto *mosq, void *user, int rc) {
  (void)user;
  if (rc == 0) mosquitto_subscribe(mosq, NULL, "cs/josev", qos);
}

static void on_subscribe(struct mosquitto *mosq, void *user, int mid, int count, const int *granted) {
  (void)user, (void)mid, (void)count, (void)granted;
  pthread_mutex_lock(&lock);
  if (!subscribed) {
    subscribed = true;
    first_send = now_ns();
    for (long i = 0; i < in_flight; i++) send_next(mosq, first_send);
  }
  pthread_mutex_unlock(&lock);
}

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double percentile(double p) {
  if (answered == 0) return 0;
  long rank = (long)((p / 100.0) * (double)answered + 0.999999) - 1;
  if (rank < 0) rank = 0;
  if (rank >= answered) rank = answered - 1;
  return (double)latencies[rank] / 1000.0;
}

int main(int argc, char **argv) {
  if (argc != 8 && argc != 9) {
    fprintf(stderr, "usage: loadgen HOST PORT QOS REQUESTS IN_FLIGHT TIMEOUT_S OUT_DIR [STOP_FILE]\n");
    return 2;
  }
  if (argc == 9) stop_file = argv[8];
  qos = atoi(argv[3]);
  total = atol(argv[4]);
  in_flight = atol(argv[5]);
  double timeout = atof(argv[6]);
  const char *out_dir = argv[7];
  if ((qos != 0 && qos != 1) || total < 1 || in_flight < 1 || timeout <= 0) {
    fprintf(stderr, "loadgen: bad arguments\n");
    return 2;
  }
  status = calloc((size_t)total, 1);
  sent_at = calloc((size_t)total, sizeof *sent_at);
  latencies = calloc((size_t)total, sizeof *latencies);
  if (!status || !sent_at || !latencies) return 2;

  /* A random per-run UUID prefix, version 4, variant 8; the last 12 hex digits are the index. */
  FILE *urandom = fopen("/dev/urandom", "rb");
  unsigned char random[12] = {0};
  if (!urandom || fread(random, 1, sizeof random, urandom) != sizeof random) return 2;
  fclose(urandom);
  snprintf(prefix, sizeof prefix, "%02x%02x%02x%02x-%02x%02x-4%01x%02x-8%01x%02x-", random[0], random[1], random[2],
           random[3], random[4], random[5], random[6] & 0xF, random[7], random[8] & 0xF, random[9]);
  request_length = (size_t)snprintf(request, sizeof request, "%s%s000000000000%s", request_head, prefix, request_tail);
  digits_offset = strlen(request_head) + 24;

  mosquitto_lib_init();
  char client_id[64];
  snprintf(client_id, sizeof client_id, "bench-loadgen-%d", (int)getpid());
  struct mosquitto *mosq = mosquitto_new(client_id, true, NULL);
  if (!mosq) return 2;
  mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, 65535);
  mosquitto_max_inflight_messages_set(mosq, 0);
  mosquitto_connect_callback_set(mosq, on_connect);
  mosquitto_subscribe_callback_set(mosq, on_subscribe);
  mosquitto_message_callback_set(mosq, on_message);
  int rc = mosquitto_connect(mosq, argv[1], atoi(argv[2]), 60);
  if (rc != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "loadgen: %s\n", mosquitto_strerror(rc));
    return 1;
  }
  mosquitto_loop_start(mosq);

  /* Wait until everything is answered, or nothing moved for TIMEOUT_S. */
  pthread_mutex_lock(&lock);
  long seen = -1;
  uint64_t last_progress = now_ns();
  while (answered + send_errors < (stopped ? next_index : total)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100000000;
    if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&progress, &lock, &until);
    if (answered != seen) seen = answered, last_progress = now_ns();
    else if ((double)(now_ns() - last_progress) / 1e9 > timeout) break;
  }
  if (stopped) total = next_index; /* the requests sent */
  long timeouts = total - answered - send_errors;
  pthread_mutex_unlock(&lock);
  mosquitto_disconnect(mosq);
  mosquitto_loop_stop(mosq, false);

  if (timeouts > 0) problem(answered == 0 ? "no answer at all" : "requests left unanswered");
  qsort(latencies, (size_t)answered, sizeof *latencies, compare);
  double elapsed = answered > 0 ? (double)(last_done - first_send) / 1e9 : 0;
  double mean = 0;
  for (long i = 0; i < answered; i++) mean += (double)latencies[i] / 1000.0;
  if (answered > 0) mean /= (double)answered;
  for (long i = 0; i < distinct; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/answer-%ld.json", out_dir, i);
    FILE *out = fopen(path, "wb");
    if (!out) { perror(path); return 2; }
    fwrite(distinct_answers[i], 1, (size_t)distinct_lengths[i], out);
    fputc('\n', out);
    fclose(out);
  }
  printf("{\"requests\":%ld,\"in_flight\":%ld,\"qos\":%d,\"answered\":%ld,\"timeouts\":%ld,\"wrong\":%ld,"
         "\"late\":%ld,\"duplicates\":%ld,\"send_errors\":%ld,\"foreign\":%ld,\"distinct_answers\":%ld,"
         "\"elapsed_s\":%.6f,\"requests_per_s\":%.1f,\"latency_us\":{\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,"
         "\"p99\":%.1f,\"max\":%.1f,\"mean\":%.1f},\"problem\":\"%s\"}\n",
         total, in_flight, qos, answered, timeouts, wrong, late, duplicates, send_errors, foreign, distinct, elapsed,
         elapsed > 0 ? (double)answered / elapsed : 0, percentile(0), percentile(50), percentile(90), percentile(99),
         percentile(100), mean, first_problem);
  mosquitto_destroy(mosq);
  mosquitto_lib_cleanup();
  return (timeouts == 0 && wrong == 0 && send_errors == 0 && duplicates == 0) ? 0 : 1;
}
