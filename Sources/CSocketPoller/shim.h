// What Basics/SocketPoller.swift needs beyond Swift's Glibc module: the eventfd that wakes the
// "servers" thread, and naming that thread (prctl is variadic, which Swift cannot call).
#include <sys/eventfd.h>
#include <sys/prctl.h>

static inline int cs_name_current_thread(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}
