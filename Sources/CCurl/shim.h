// libcurl (Debian libcurl4-openssl-dev) for the BackOffice module, loaded on first use.
//
// libcurl is needed only while a firmware image or a log file is transferred, but linking it
// maps it and its dependencies (GnuTLS, Kerberos, LDAP, nettle, p11-kit, … ≈ 3.5 MB of resident
// pages) into the daemon for its whole life. So the daemon does not link it: the first transfer
// dlopen()s libcurl.so.4 and looks the few functions below up; a station without the library gets
// a clear error for that transfer and keeps charging. Only the types and constants come from
// <curl/curl.h>.
//
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: the typed
// wrappers below can.
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    CURLcode (*easy_perform)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    curl_mime *(*mime_init)(CURL *handle);
    curl_mimepart *(*mime_addpart)(curl_mime *mime);
    CURLcode (*mime_name)(curl_mimepart *part, const char *name);
    CURLcode (*mime_filedata)(curl_mimepart *part, const char *path);
    void (*mime_free)(curl_mime *mime);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
    CURLcode init_result;
    char error[256];
} cs_curl_library;

// Function-local statics: Swift's importer emits the inline functions, not file-scope variables.
static inline cs_curl_library *cs_curl_state(void) {
    static cs_curl_library state;
    return &state;
}
static inline pthread_once_t *cs_curl_once(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    return &once;
}
#define cs_curl_loaded (*cs_curl_state())

static inline void *cs_curl_symbol(void *library, const char *name, int *missing) {
    void *symbol = dlsym(library, name);
    if (symbol == NULL) { *missing = 1; }
    return symbol;
}

static inline void cs_curl_load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(cs_curl_loaded.error, sizeof cs_curl_loaded.error, "libcurl.so.4 cannot be loaded: %s",
                 reason ? reason : "unknown reason");
        return;
    }
    int missing = 0;
    cs_curl_library l = {0};
    l.global_init = (CURLcode (*)(long))cs_curl_symbol(library, "curl_global_init", &missing);
    l.easy_init = (CURL *(*)(void))cs_curl_symbol(library, "curl_easy_init", &missing);
    l.easy_cleanup = (void (*)(CURL *))cs_curl_symbol(library, "curl_easy_cleanup", &missing);
    l.easy_perform = (CURLcode (*)(CURL *))cs_curl_symbol(library, "curl_easy_perform", &missing);
    l.easy_strerror = (const char *(*)(CURLcode))cs_curl_symbol(library, "curl_easy_strerror", &missing);
    l.easy_setopt = (CURLcode (*)(CURL *, CURLoption, ...))cs_curl_symbol(library, "curl_easy_setopt", &missing);
    l.easy_getinfo = (CURLcode (*)(CURL *, CURLINFO, ...))cs_curl_symbol(library, "curl_easy_getinfo", &missing);
    l.mime_init = (curl_mime *(*)(CURL *))cs_curl_symbol(library, "curl_mime_init", &missing);
    l.mime_addpart = (curl_mimepart *(*)(curl_mime *))cs_curl_symbol(library, "curl_mime_addpart", &missing);
    l.mime_name = (CURLcode (*)(curl_mimepart *, const char *))cs_curl_symbol(library, "curl_mime_name", &missing);
    l.mime_filedata = (CURLcode (*)(curl_mimepart *, const char *))cs_curl_symbol(library, "curl_mime_filedata", &missing);
    l.mime_free = (void (*)(curl_mime *))cs_curl_symbol(library, "curl_mime_free", &missing);
    l.slist_append = (struct curl_slist *(*)(struct curl_slist *, const char *))cs_curl_symbol(library, "curl_slist_append", &missing);
    l.slist_free_all = (void (*)(struct curl_slist *))cs_curl_symbol(library, "curl_slist_free_all", &missing);
    if (missing) {
        snprintf(cs_curl_loaded.error, sizeof cs_curl_loaded.error, "libcurl.so.4 lacks a function this daemon needs (libcurl >= 7.83 is required)");
        return;
    }
    l.init_result = l.global_init(CURL_GLOBAL_DEFAULT);
    if (l.init_result != CURLE_OK) {
        snprintf(l.error, sizeof l.error, "curl_global_init failed (curl %d)", (int)l.init_result);
        cs_curl_loaded = l;
        cs_curl_loaded.easy_init = NULL;
        return;
    }
    cs_curl_loaded = l;
}

/// The loaded library, or NULL with `cs_curl_load_error()` saying why. Thread-safe.
static inline const cs_curl_library *cs_curl(void) {
    pthread_once(cs_curl_once(), cs_curl_load);
    return cs_curl_loaded.easy_init != NULL ? &cs_curl_loaded : NULL;
}
static inline const char *cs_curl_load_error(void) {
    pthread_once(cs_curl_once(), cs_curl_load);
    return cs_curl_loaded.error;
}

// Every function below needs `cs_curl()` to have returned non-NULL first.
static inline CURL *cs_curl_easy_init(void) { return cs_curl_loaded.easy_init(); }
static inline void cs_curl_easy_cleanup(CURL *handle) { cs_curl_loaded.easy_cleanup(handle); }
static inline CURLcode cs_curl_easy_perform(CURL *handle) { return cs_curl_loaded.easy_perform(handle); }
static inline const char *cs_curl_easy_strerror(CURLcode code) { return cs_curl_loaded.easy_strerror(code); }
static inline curl_mime *cs_curl_mime_init(CURL *handle) { return cs_curl_loaded.mime_init(handle); }
static inline curl_mimepart *cs_curl_mime_addpart(curl_mime *mime) { return cs_curl_loaded.mime_addpart(mime); }
static inline CURLcode cs_curl_mime_name(curl_mimepart *part, const char *name) { return cs_curl_loaded.mime_name(part, name); }
static inline CURLcode cs_curl_mime_filedata(curl_mimepart *part, const char *path) { return cs_curl_loaded.mime_filedata(part, path); }
static inline void cs_curl_mime_free(curl_mime *mime) { cs_curl_loaded.mime_free(mime); }
static inline struct curl_slist *cs_curl_slist_append(struct curl_slist *list, const char *text) { return cs_curl_loaded.slist_append(list, text); }
static inline void cs_curl_slist_free_all(struct curl_slist *list) { cs_curl_loaded.slist_free_all(list); }

static inline CURLcode cs_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return cs_curl_loaded.easy_setopt(handle, option, value);
}
static inline CURLcode cs_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return cs_curl_loaded.easy_setopt(handle, option, value);
}
static inline CURLcode cs_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return cs_curl_loaded.easy_setopt(handle, option, value);
}
static inline CURLcode cs_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return cs_curl_loaded.easy_setopt(handle, option, value);
}
static inline CURLcode cs_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return cs_curl_loaded.easy_setopt(handle, option, value);
}
static inline CURLcode cs_curl_setopt_mime(CURL *handle, curl_mime *value) {
    return cs_curl_loaded.easy_setopt(handle, CURLOPT_MIMEPOST, value);
}
typedef size_t (*cs_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
static inline CURLcode cs_curl_setopt_data_callback(CURL *handle, CURLoption option, cs_curl_data_callback callback) {
    return cs_curl_loaded.easy_setopt(handle, option, callback);
}
static inline CURLcode cs_curl_setopt_progress_callback(CURL *handle, curl_xferinfo_callback callback) {
    return cs_curl_loaded.easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}
static inline CURLcode cs_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return cs_curl_loaded.easy_getinfo(handle, info, value);
}
static inline CURLcode cs_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return cs_curl_loaded.easy_getinfo(handle, info, value);
}
