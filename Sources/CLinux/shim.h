// What the daemon's threads need of Linux beyond Swift's Glibc module: eventfd (the wake-ups of the
// MQTT network thread and the "servers" poll thread), signalfd (ProcessSignals) and naming the
// calling thread (prctl is variadic, which Swift cannot call).
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>

static inline int cs_name_current_thread(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}
