/*
 * A fake network for the fuzz targets, installed through the link seam
 * (sn_transport_set). Every connection the library opens reads the next
 * "stream" of the fuzz input as the bytes a sentinel or a data node sent;
 * when the streams run out, connections are refused. Nothing is ever sent
 * anywhere: what the library writes is only checked to be readable.
 *
 * The fake also checks the library's side of the contract: every address it
 * dials is a sane host and port, every handle is closed exactly once, and
 * nothing is left open when a call returns (fuzz_net_check_closed).
 */
#ifndef SN_FUZZ_NET_H
#define SN_FUZZ_NET_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FUZZ_MAX_STREAMS 32

/* Stops the run with a message; libFuzzer saves the input that did it. */
#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                     \
            abort();                                                            \
        }                                                                       \
    } while (0)

typedef struct fuzz_stream {
    const uint8_t *p;
    size_t len, pos;
    int opened, closed;
} fuzz_stream;

static struct {
    fuzz_stream s[FUZZ_MAX_STREAMS];
    int n;        /* streams available */
    int next;     /* the stream the next open() gets */
    size_t chunk; /* most bytes one recv() or send() moves */
    uint64_t sent;
} fuzz_net;

static volatile unsigned fuzz_sink;

/* SN_FUZZ_VERBOSE=1 makes targets say what each input did (reproducing). */
static inline int fuzz_verbose(void)
{
    static int v = -1;

    if (v == -1)
        v = getenv("SN_FUZZ_VERBOSE") != NULL;
    return v;
}

/* A hostport the library dials or reports must be NUL-terminated, non-empty
 * and free of blanks and control characters, with a port in range. */
static inline void fuzz_check_host(const char *host, size_t cap)
{
    size_t n = strnlen(host, cap);

    FUZZ_CHECK(n > 0 && n < cap);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)host[i] > ' ');
}

static inline void fuzz_check_hostport(const sn_hostport *hp)
{
    fuzz_check_host(hp->host, sizeof(hp->host));
    FUZZ_CHECK(hp->port >= 1 && hp->port <= 65535);
}

static inline int fuzz_open(const char *host, int port, int64_t deadline_ms, sn_err *e)
{
    (void)deadline_ms;
    fuzz_check_host(host, SENTINEL_HOST_MAX);
    FUZZ_CHECK(port >= 1 && port <= 65535);
    if (fuzz_net.next >= fuzz_net.n)
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "connect: refused (fuzz)");
    fuzz_net.s[fuzz_net.next].opened = 1;
    return fuzz_net.next++;
}

static inline fuzz_stream *fuzz_handle(int h)
{
    FUZZ_CHECK(h >= 0 && h < fuzz_net.next);
    FUZZ_CHECK(fuzz_net.s[h].opened && !fuzz_net.s[h].closed);
    return &fuzz_net.s[h];
}

static inline ssize_t fuzz_send(int h, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    const unsigned char *b = buf;
    size_t n = len < fuzz_net.chunk ? len : fuzz_net.chunk;
    unsigned sum = 0;

    (void)deadline_ms;
    (void)e;
    fuzz_handle(h);
    FUZZ_CHECK(len > 0);
    for (size_t i = 0; i < n; i++) /* ASan checks the bytes are really there */
        sum += b[i];
    fuzz_sink += sum;
    fuzz_net.sent += n;
    return (ssize_t)n;
}

static inline ssize_t fuzz_recv(int h, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    fuzz_stream *s = fuzz_handle(h);
    size_t n = s->len - s->pos;

    (void)deadline_ms;
    (void)e;
    FUZZ_CHECK(cap > 0);
    if (n > cap)
        n = cap;
    if (n > fuzz_net.chunk)
        n = fuzz_net.chunk;
    memcpy(buf, s->p + s->pos, n);
    s->pos += n;
    return (ssize_t)n; /* 0 once the stream is spent: the peer closed */
}

static inline void fuzz_close(int h)
{
    fuzz_handle(h)->closed = 1;
}

static const sn_transport fuzz_transport = {
    .open = fuzz_open,
    .send = fuzz_send,
    .recv = fuzz_recv,
    .close = fuzz_close,
};

/* Start a fresh network; chunk 0 means "as much as asked for". */
static inline void fuzz_net_reset(size_t chunk)
{
    memset(&fuzz_net, 0, sizeof(fuzz_net));
    fuzz_net.chunk = chunk ? chunk : SIZE_MAX;
    sn_transport_set(&fuzz_transport);
}

static inline void fuzz_net_add(const uint8_t *p, size_t len)
{
    if (fuzz_net.n == FUZZ_MAX_STREAMS)
        return;
    fuzz_net.s[fuzz_net.n].p = p;
    fuzz_net.s[fuzz_net.n].len = len;
    fuzz_net.n++;
}

/* Split data on sep into streams (an empty stream is a peer that closes at
 * once). Streams beyond FUZZ_MAX_STREAMS are dropped. */
static inline void fuzz_net_split(const uint8_t *data, size_t size, const char *sep)
{
    size_t seplen = strlen(sep);

    for (;;) {
        const uint8_t *at = size >= seplen ? memmem(data, size, sep, seplen) : NULL;
        if (at == NULL) {
            fuzz_net_add(data, size);
            return;
        }
        fuzz_net_add(data, (size_t)(at - data));
        size -= (size_t)(at - data) + seplen;
        data = at + seplen;
    }
}

/* Every connection the library opened, it closed. */
static inline void fuzz_net_check_closed(void)
{
    for (int i = 0; i < fuzz_net.next; i++)
        FUZZ_CHECK(fuzz_net.s[i].closed);
}

#endif /* SN_FUZZ_NET_H */
