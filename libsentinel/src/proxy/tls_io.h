/*
 * sentinel-proxy's TLS: to the master (origination) and from clients
 * (termination), over the proxy's own non-blocking sockets (tls_io.c).
 * Connections are kept by fd, so the rest of the proxy moves bytes with
 * px_io_recv() / px_io_send() whatever the fd carries; a NULL px_tls (TLS
 * off) is plain recv() / send().
 */
#ifndef SN_PROXY_TLS_IO_H
#define SN_PROXY_TLS_IO_H

#include "proxy/proxy_int.h"

typedef struct px_tls px_tls;

/* up: the data nodes' options (their SSL_CTX is shared, one per proxy,
 * with the follower's ROLE checks), or NULL / TLS off: plaintext to the
 * master. tc: the listener's certificate, key and client CA, if any.
 * setsize: the loop's fd range; bufsize: the proxy's buffer size (a write
 * is never retried with fewer bytes than it first offered). Returns the
 * state, NULL with err set on failure, and NULL with err "" when neither
 * side has TLS. */
px_tls *px_tls_new(px_loop *loop, const sn_tls_opts *up, const px_tls_config *tc, int setsize,
                   size_t bufsize, char *err, size_t errlen);
void px_tls_free(px_tls *t);
/* TLS to the master / from clients? (t may be NULL) */
int px_tls_upstream(const px_tls *t);
int px_tls_listener(const px_tls *t);
/* How long a client's handshake may take from accept (tls-handshake-timeout). */
int px_tls_handshake_ms(const px_tls *t);
/* Start TLS on a connected fd: a client of the master, verifying host (or
 * the configured server name), or, host NULL, the server side for an
 * accepted client. 0, or -1 with why set, or PX_TLS_NO_MEMORY with why
 * "out of memory (...)": the proxy's failure, not the peer's. */
#define PX_TLS_NO_MEMORY (-2)
int px_tls_start(px_tls *t, int fd, const char *host, char *why, size_t whylen);
/* Move fd's handshake on: 1 done, 0 in progress, -1 failed (why set:
 * "certificate verify failed: ...", "hostname mismatch", "is it a TLS
 * port?"). */
int px_tls_handshake(px_tls *t, int fd, char *why, size_t whylen);
/* What fd's handshake waits for (PX_READABLE / PX_WRITABLE), or PX_NONE
 * when fd has no TLS or its handshake is done. */
int px_tls_handshake_want(const px_tls *t, int fd);
/* Why an upstream connect on fd ran out of time: "connect timed out"
 * before the TLS handshake started, "TLS handshake timed out" during it,
 * with a hint when the server has sent no byte back (a plaintext port,
 * which waits for a line end the TLS hello has not, or a frozen server). */
const char *px_tls_connect_timeout_why(const px_tls *t, int fd);
/* An orderly close: send close_notify on fd, once, best effort (nothing
 * when fd has no TLS, its handshake is not done or it failed). The fd can
 * still be read: the peer's last replies. */
void px_tls_close_notify(px_tls *t, int fd);
/* Forget fd's TLS state (before closing fd; no close_notify). */
void px_tls_end(px_tls *t, int fd);

/* recv() / send(MSG_NOSIGNAL) on fd, through TLS when fd has it: bytes, 0
 * when the peer closed (recv), or -1 with errno (EAGAIN: try again when
 * the loop says so; bytes TLS holds decrypted are handed to the loop as
 * pending, since epoll does not wake for them, and the socket event that
 * serves the direction follows OpenSSL's want: px_loop_set_io_want). */
ssize_t px_io_recv(px_tls *t, int fd, void *buf, size_t len);
ssize_t px_io_send(px_tls *t, int fd, const void *buf, size_t len);

#endif /* SN_PROXY_TLS_IO_H */
