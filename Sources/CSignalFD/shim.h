// Linux's signalfd (<sys/signalfd.h>) and pthread_setname_np, for the daemon's ProcessSignals.
#include <pthread.h>
#include <sys/signalfd.h>

// A GNU extension <pthread.h> declares only with _GNU_SOURCE, which Swift's Glibc module lacks.
extern int pthread_setname_np(pthread_t thread, const char *name);
