// glibc malloc tuning (mallopt), for the daemon's MemoryPolicy.
#include <malloc.h>
