/* bench/responder.c: "the limit" of `make bench`. A minimal Josev CS responder over libmosquitto:
 * subscribes to josev/cs, copies the request's id into a fixed cs_status_and_limits answer and
 * publishes it on cs/josev. No parsing beyond finding the id, no validation. Subscribes and
 * publishes with QoS 1 as cs-companiond does. Sends READY=1 to $NOTIFY_SOCKET once subscribed.
 *
 *   responder HOST PORT DATA_FILE      (DATA_FILE: the answer's "data" object, compact JSON)
 */
#include <mosquitto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *answer;         /* {"id":"<36 bytes>","name":"cs_status_and_limits","type":"response","data":...} */
static size_t answer_length;
static const size_t id_offset = 7; /* strlen("{\"id\":\"") */
static const size_t id_length = 36;
static unsigned long answered, refused;

static void notify_ready(void) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path || !*path) return;
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  size_t length = strlen(path);
  if (length >= sizeof address.sun_path) return;
  memcpy(address.sun_path, path, length);
  if (address.sun_path[0] == '@') address.sun_path[0] = 0;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&address,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length));
  close(fd);
}

static void on_connect(struct mosquitto *mosq, void *user, int rc) {
  (void)user;
  if (rc != 0) {
    fprintf(stderr, "responder: connect refused (%d)\n", rc);
    return;
  }
  mosquitto_subscribe(mosq, NULL, "josev/cs", 1);
}

static void on_subscribe(struct mosquitto *mosq, void *user, int mid, int count, const int *granted) {
  (void)mosq, (void)user, (void)mid, (void)count, (void)granted;
  notify_ready();
}

/* The request's id: the 36 bytes after "id":" (a UUID); anything else is refused. */
static void on_message(struct mosquitto *mosq, void *user, const struct mosquitto_message *message) {
  (void)user;
  const char *payload = message->payload;
  size_t length = (size_t)message->payloadlen;
  static const char key[] = "\"id\":\"";
  for (size_t i = 0; i + sizeof key - 1 + id_length < length; i++) {
    if (payload[i] == '"' && memcmp(payload + i, key, sizeof key - 1) == 0) {
      const char *id = payload + i + sizeof key - 1;
      if (id[id_length] != '"') break;
      memcpy(answer + id_offset, id, id_length);
      if (mosquitto_publish(mosq, NULL, "cs/josev", (int)answer_length, answer, 1, false) == MOSQ_ERR_SUCCESS)
        answered++;
      return;
    }
  }
  refused++;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: responder HOST PORT DATA_FILE\n");
    return 2;
  }
  FILE *file = fopen(argv[3], "rb");
  if (!file) {
    perror(argv[3]);
    return 2;
  }
  char data[65536];
  size_t data_length = fread(data, 1, sizeof data - 1, file);
  fclose(file);
  while (data_length > 0 && (data[data_length - 1] == '\n' || data[data_length - 1] == ' ')) data_length--;
  static const char head[] = "{\"id\":\"00000000-0000-4000-8000-000000000000\",\"name\":\"cs_status_and_limits\",\"type\":\"response\",\"data\":";
  answer_length = sizeof head - 1 + data_length + 1;
  answer = malloc(answer_length);
  if (!answer) return 2;
  memcpy(answer, head, sizeof head - 1);
  memcpy(answer + sizeof head - 1, data, data_length);
  answer[answer_length - 1] = '}';

  mosquitto_lib_init();
  char client_id[64];
  snprintf(client_id, sizeof client_id, "bench-c-responder-%d", (int)getpid());
  struct mosquitto *mosq = mosquitto_new(client_id, true, NULL);
  if (!mosq) return 2;
  mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(mosq, on_connect);
  mosquitto_subscribe_callback_set(mosq, on_subscribe);
  mosquitto_message_callback_set(mosq, on_message);
  int rc = mosquitto_connect(mosq, argv[1], atoi(argv[2]), 60);
  if (rc != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "responder: %s\n", mosquitto_strerror(rc));
    return 1;
  }
  rc = mosquitto_loop_forever(mosq, -1, 1);
  fprintf(stderr, "responder: loop ended (%s), answered %lu, refused %lu\n", mosquitto_strerror(rc), answered, refused);
  mosquitto_destroy(mosq);
  mosquitto_lib_cleanup();
  return 0;
}
