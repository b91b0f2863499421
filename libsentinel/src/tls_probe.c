/*
 * Is this port a TLS port? Asked only after a plaintext command was reset,
 * or the connection closed, before any byte of a reply came back: that is
 * what a TLS-only Redis or Sentinel does to a plaintext client (OpenSSL sends
 * no alert when the first record is not TLS, so the client gets a bare
 * reset), and also what a dying server does. A dying server must keep its
 * retryable code; a TLS port is a configuration error the operator should be
 * told plainly (SENTINEL_ERR_TLS), not retried forever as "unreachable".
 *
 * So one more connection, within the caller's deadline, sends a TLS 1.2
 * ClientHello and reads the first bytes back. A TLS server answers with a
 * record, a ServerHello (0x16) or an alert (0x15), version 3.x, whatever it
 * thinks of the hello; a plaintext Redis reads the hello as an inline
 * command and answers "-ERR ..." (or waits for a line end); a dead server
 * refuses the connect. Only a TLS record says yes.
 *
 * The hello is fixed bytes, so the plaintext-only library (no OpenSSL) can
 * send it. It is never completed: we close after the first read, and the
 * server logs a failed handshake.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "internal.h"

/* The longest a probe may take: far more than any live TLS server needs to
 * answer a hello on a reachable host, and never past the caller's deadline. */
#define PROBE_MAX_MS 1000

/* TLS 1.2 ClientHello: record header, handshake header, version, a fixed
 * "random", no session, five AEAD suites (ECDHE ECDSA/RSA, DHE RSA), no
 * compression, and the extensions an OpenSSL 3 server needs to pick one:
 * supported_groups (x25519, P-256), ec_point_formats, signature_algorithms. */
static const unsigned char client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x55,                         /* handshake record, 85 bytes */
    0x01, 0x00, 0x00, 0x51,                               /* ClientHello, 81 bytes */
    0x03, 0x03,                                           /* TLS 1.2 */
    0x6c, 0x69, 0x62, 0x73, 0x65, 0x6e, 0x74, 0x69, 0x6e, 0x65, 0x6c, 0x2d, 0x74, 0x6c, 0x73, 0x2d,
    0x70, 0x72, 0x6f, 0x62, 0x65, 0x3a, 0x20, 0x69, 0x73, 0x20, 0x69, 0x74, 0x20, 0x54, 0x4c, 0x53,
    0x00,                                                 /* session id: none */
    0x00, 0x0a, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9e, /* suites */
    0x01, 0x00,                                           /* compression: null */
    0x00, 0x1e,                                           /* extensions, 30 bytes */
    0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, /* groups: x25519, P-256 */
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                   /* ec_point_formats: uncompressed */
    0x00, 0x0d, 0x00, 0x0a, 0x00, 0x08, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x08, 0x05, /* sig algs */
};

int sn_tls_record_head(const void *buf, size_t n)
{
    const unsigned char *b = buf;

    return n >= 2 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03;
}

int sn_probe_tls(const sn_transport *t, const char *host, int port, int64_t deadline_ms)
{
    unsigned char buf[8];
    size_t got = 0;
    int64_t dl = sn_now_ms() + PROBE_MAX_MS;
    sn_err e;
    int h;

    if (dl > deadline_ms)
        dl = deadline_ms;
    sn_err_clear(&e);
    if ((h = t->open(host, port, dl, &e)) < 0)
        return 0;
    for (size_t off = 0; off < sizeof(client_hello);) {
        ssize_t n = t->send(h, client_hello + off, sizeof(client_hello) - off, dl, &e);
        if (n <= 0)
            goto out;
        off += (size_t)n;
    }
    /* Two bytes tell a TLS record from anything else; bounded reads. */
    for (int i = 0; i < 2 && got < 2; i++) {
        ssize_t n = t->recv(h, buf + got, sizeof(buf) - got, dl, &e);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
out:
    t->close(h);
    return sn_tls_record_head(buf, got);
}

/*
 * The other way round: is this a plaintext port? A TLS handshake to a
 * plaintext Redis gets no byte back, because Redis reads the ClientHello as
 * an inline command and waits for a line end; a frozen TLS server sends
 * nothing either. Asked only once the handshake has had no byte for half its
 * time: an inline PING on a new connection, until the handshake's own
 * deadline (so a frozen server still fails when it would have). A plaintext
 * Redis or Sentinel answers it with a RESP line (+PONG, -NOAUTH, -DENIED,
 * -ERR ...); a slow TLS server rejects it at once (a reset, a close or an
 * alert); a frozen one answers neither.
 */
int sn_resp_type_byte(unsigned char c)
{
    return c == '+' || c == '-' || c == ':' || c == '$' || c == '*';
}

int sn_probe_plaintext(const sn_transport *t, const char *host, int port, int64_t deadline_ms)
{
    static const char ping[] = "PING\r\n";
    unsigned char c = 0;
    ssize_t n = -1;
    sn_err e;
    int h;

    sn_err_clear(&e);
    if ((h = t->open(host, port, deadline_ms, &e)) < 0)
        return e.code == SENTINEL_ERR_TIMEOUT ? -1 : 0;
    for (size_t off = 0; off < sizeof(ping) - 1; off += (size_t)n)
        if ((n = t->send(h, ping + off, sizeof(ping) - 1 - off, deadline_ms, &e)) <= 0)
            break;
    if (n > 0)
        n = t->recv(h, &c, 1, deadline_ms, &e); /* one byte tells */
    t->close(h);
    if (n == 1)
        return sn_resp_type_byte(c);
    return n < 0 && e.code == SENTINEL_ERR_TIMEOUT ? -1 : 0;
}
