/* bench/modbusload.c: the Modbus load of `make bench`. CLIENTS connections, each reading the
 * 125-register meter block (FC03, 300..424) of UNIT back to back for SECONDS; every answer must be
 * a well-formed FC03 answer with the request's transaction id and 250 data bytes. Prints one JSON
 * object (requests/s, latency percentiles). With --every MS, each client sends one request per MS
 * milliseconds instead (paced like a gridBox polling; the clients' ticks spread evenly over the
 * interval). With --dump, reads the block once and prints its 125 values (the pymodbus peer serves
 * them).
 *
 *   modbusload [--every MS] HOST PORT UNIT CLIENTS SECONDS
 *   modbusload --dump HOST PORT UNIT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

#define START 300
#define COUNT 125
#define ANSWER_LENGTH (7 + 2 + 2 * COUNT)
#define MAX_SAMPLES 4000000

static const char *host;
static int port, unit;
static double seconds;
static uint64_t deadline, started, every_ns;
static int client_count;
static uint64_t *samples;
static long sample_count, wrong, failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static int connect_to_server(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval timeout = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

static bool read_full(int fd, uint8_t *buffer, size_t length) {
  size_t done = 0;
  while (done < length) {
    ssize_t got = recv(fd, buffer + done, length - done, 0);
    if (got <= 0) return false;
    done += (size_t)got;
  }
  return true;
}

/* One FC03 read; 0 = good answer, 1 = wrong answer, -1 = I/O failure. */
static int read_block(int fd, uint16_t transaction, uint8_t answer[ANSWER_LENGTH]) {
  uint8_t request[12] = {transaction >> 8, transaction & 0xFF, 0, 0, 0, 6, (uint8_t)unit, 3, START >> 8, START & 0xFF, 0, COUNT};
  if (send(fd, request, sizeof request, 0) != (ssize_t)sizeof request) return -1;
  if (!read_full(fd, answer, 9)) return -1;
  if (answer[7] != 3) { /* an exception: 9 bytes in all */
    return 1;
  }
  if (!read_full(fd, answer + 9, ANSWER_LENGTH - 9)) return -1;
  uint16_t length = (uint16_t)(answer[4] << 8 | answer[5]);
  uint16_t echoed = (uint16_t)(answer[0] << 8 | answer[1]);
  if (echoed != transaction || answer[2] || answer[3] || length != 3 + 2 * COUNT || answer[6] != unit ||
      answer[8] != 2 * COUNT)
    return 1;
  return 0;
}

static void sleep_until(uint64_t when) {
  struct timespec at = {.tv_sec = (time_t)(when / 1000000000u), .tv_nsec = (long)(when % 1000000000u)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
  }
}

static void *client(void *argument) {
  long index = (long)(intptr_t)argument;
  /* Paced: this client's ticks, offset by its share of the interval. */
  uint64_t next = started + (every_ns ? every_ns * (uint64_t)index / (uint64_t)client_count : 0);
  int fd = connect_to_server();
  if (fd < 0) {
    pthread_mutex_lock(&lock);
    failures++;
    pthread_mutex_unlock(&lock);
    return NULL;
  }
  uint8_t answer[ANSWER_LENGTH];
  uint16_t transaction = 0;
  uint64_t *local = malloc(sizeof(uint64_t) * 1000000);
  long local_count = 0, local_wrong = 0, local_failures = 0;
  while (local && local_count < 1000000) {
    if (every_ns) {
      if (next >= deadline) break;
      sleep_until(next);
      next += every_ns;
    }
    uint64_t start = now_ns();
    if (start >= deadline) break;
    int result = read_block(fd, ++transaction, answer);
    if (result < 0) { local_failures++; break; }
    if (result > 0) { local_wrong++; break; }
    local[local_count++] = now_ns() - start;
  }
  close(fd);
  pthread_mutex_lock(&lock);
  for (long i = 0; i < local_count && sample_count < MAX_SAMPLES; i++) samples[sample_count++] = local[i];
  wrong += local_wrong;
  failures += local_failures;
  pthread_mutex_unlock(&lock);
  free(local);
  return NULL;
}

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double percentile(double p) {
  if (sample_count == 0) return 0;
  long rank = (long)((p / 100.0) * (double)sample_count + 0.999999) - 1;
  if (rank < 0) rank = 0;
  if (rank >= sample_count) rank = sample_count - 1;
  return (double)samples[rank] / 1000.0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--dump") == 0) {
    host = argv[2], port = atoi(argv[3]), unit = atoi(argv[4]);
    int fd = connect_to_server();
    uint8_t answer[ANSWER_LENGTH];
    if (fd < 0 || read_block(fd, 1, answer) != 0) {
      fprintf(stderr, "modbusload: cannot read %d..%d on unit %d\n", START, START + COUNT - 1, unit);
      return 1;
    }
    for (int i = 0; i < COUNT; i++) printf("%d%c", answer[9 + 2 * i] << 8 | answer[10 + 2 * i], i + 1 < COUNT ? ' ' : '\n');
    close(fd);
    return 0;
  }
  if (argc == 8 && strcmp(argv[1], "--every") == 0) {
    double every_ms = atof(argv[2]);
    if (every_ms <= 0) return 2;
    every_ns = (uint64_t)(every_ms * 1e6);
    argv += 2, argc -= 2;
  }
  if (argc != 6) {
    fprintf(stderr, "usage: modbusload [--every MS] HOST PORT UNIT CLIENTS SECONDS | --dump HOST PORT UNIT\n");
    return 2;
  }
  host = argv[1], port = atoi(argv[2]), unit = atoi(argv[3]);
  int clients = client_count = atoi(argv[4]);
  seconds = atof(argv[5]);
  if (clients < 1 || clients > 64 || seconds <= 0) return 2;
  samples = malloc(sizeof(uint64_t) * MAX_SAMPLES);
  if (!samples) return 2;
  pthread_t threads[64];
  uint64_t start = started = now_ns();
  deadline = start + (uint64_t)(seconds * 1e9);
  for (int i = 0; i < clients; i++) pthread_create(&threads[i], NULL, client, (void *)(intptr_t)i);
  for (int i = 0; i < clients; i++) pthread_join(threads[i], NULL);
  double elapsed = (double)(now_ns() - start) / 1e9;
  qsort(samples, (size_t)sample_count, sizeof *samples, compare);
  printf("{\"clients\":%d,\"every_ms\":%.1f,\"requests\":%ld,\"wrong\":%ld,\"failures\":%ld,\"elapsed_s\":%.3f,\"requests_per_s\":%.1f,"
         "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}}\n",
         clients, (double)every_ns / 1e6, sample_count, wrong, failures, elapsed, (double)sample_count / elapsed, percentile(50), percentile(90),
         percentile(99), percentile(100));
  return (wrong == 0 && failures == 0 && sample_count > 0) ? 0 : 1;
}
