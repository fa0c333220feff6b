// zlib (Debian zlib1g-dev): gzip files for log uploads.
#include <zlib.h>
