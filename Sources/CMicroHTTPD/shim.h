/* libmicrohttpd (Debian libmicrohttpd-dev) for Sources/Serving. Swift cannot call C variadic functions, so the two
 * variadic entry points the server needs are wrapped here in fixed-argument inline functions. */
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <microhttpd.h>

/* MHD_start_daemon with the options Serving.HTTPServer sets: the address to bind (IPv4 or IPv6 sockaddr), the
 * request-completed callback, the connection limit, the idle timeout (seconds) and the per-connection memory. */
static inline struct MHD_Daemon *aitrader_mhd_start(unsigned int flags, const struct sockaddr *address,
                                                    MHD_AccessHandlerCallback handler, void *handler_cls,
                                                    MHD_RequestCompletedCallback completed, void *completed_cls,
                                                    unsigned int connection_limit, unsigned int connection_timeout_s,
                                                    size_t connection_memory_limit) {
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_SOCK_ADDR, address,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, connection_memory_limit,
                            MHD_OPTION_END);
}

/* The port the daemon listens on (the one the kernel chose when port 0 was asked for); 0 if unknown. */
static inline uint16_t aitrader_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}
