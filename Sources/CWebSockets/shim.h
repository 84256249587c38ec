/* libwebsockets (Debian libwebsockets-dev, 4.1) for Venues' WebSocket client (Sources/Venues/Shared/WebSocket*.swift).
 * Swift cannot see function-like or computed macros, so the few the client needs are exported here as inline
 * functions: the write padding, the context options and the log levels (and the
 * service thread's name). */
#include <stdint.h>
#include <stddef.h>
#include <pthread.h>
#include <libwebsockets.h>

/* glibc declares it only under _GNU_SOURCE, which the system module is not built with. */
extern int pthread_setname_np(pthread_t thread, const char *name);

/* Names the calling thread (at most 15 bytes show): what /proc/<pid>/task/<tid>/comm and debuggers print. */
static inline void aitrader_name_current_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

/* Bytes lws needs in front of every buffer given to lws_write (it writes the frame header there). */
static inline size_t aitrader_lws_pre(void) { return LWS_PRE; }

/* Context options of a client-only context: OpenSSL initialised by lws (once per process, lws counts). */
static inline uint64_t aitrader_lws_client_context_options(void) {
    return (uint64_t)LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
}

/* The "no listening port" marker for lws_context_creation_info.port. */
static inline int aitrader_lws_no_listen_port(void) { return CONTEXT_PORT_NO_LISTEN; }

/* Log levels: errors only (everything below is chatter about normal connection life). */
static inline int aitrader_lws_log_errors(void) { return LLL_ERR; }
