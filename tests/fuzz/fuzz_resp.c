/*
 * Fuzz target: the proxy's RESP framing for multiplexed clients
 * (src/proxy/resp.c): px_req_scan and px_cmd_shareable on what a client
 * sends, px_rep_feed on what a shared master connection sends back.
 *
 * Input: one byte that picks the read sizes, then the client's bytes and the
 * master's bytes separated by "\n--\n" (without a separator, the same bytes
 * are both). Beyond "no crash":
 *  - requests: a framed command lies within the buffer and is exactly what a
 *    reference framer (Redis' processMultibulkBuffer rules: '*' count of
 *    1..1M, '$' lengths up to 512 MB, CRLFs, numbers without leading zeros
 *    as string2ll wants them) takes, with the same name; it frames the same
 *    with bytes after it, and shorter prefixes of it are incomplete (0), not
 *    malformed. px_cmd_shareable is 0 or 1, case-insensitive, and only says
 *    yes to 1..16 letters or '_'.
 *  - replies: fed whole, byte by byte, and in reads of varying sizes, the
 *    framer finds the same replies ending at the same offsets, and fails (or
 *    not) the same way, the failing read holding the byte where byte-by-byte
 *    feeding failed. Every call consumes no more than it got, all of it when
 *    no reply ended.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"
#include "proxy/proxy_int.h"

#define MAX_COMMANDS 256
#define REQ_MAX_ARGS (1024 * 1024)
#define REQ_MAX_BULK (512LL * 1024 * 1024)

/* An exact-size copy, so a read past len is a read past the allocation. */
static char *copy_exact(const void *src, size_t len)
{
    char *p = malloc(len ? len : 1);

    if (p == NULL)
        abort();
    if (len)
        memcpy(p, src, len);
    return p;
}

/* A small generator for read sizes and prefix lengths. */
static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x ? x : 0x9e3779b9u;
}

/* ------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------ */

/* "<digits>\r\n" as Redis takes it: 1 incomplete, -1 not a number it
 * accepts, 0 with the value. */
static int ref_number(const char *p, const char *end, long long max, long long *v,
                      const char **next)
{
    const char *s = p;
    long long x = 0;

    while (p < end && *p >= '0' && *p <= '9')
        p++;
    if (p == end)
        return 1;
    if (p == s || (*s == '0' && p - s > 1) || p - s > 12)
        return -1;
    for (const char *q = s; q < p; q++)
        x = x * 10 + (*q - '0');
    if (x > max || *p != '\r')
        return -1;
    if (p + 1 == end)
        return 1;
    if (p[1] != '\n')
        return -1;
    *v = x;
    *next = p + 2;
    return 0;
}

/* One whole command at buf: its length (> 0) and name, or <= 0. */
static long long ref_frame(const char *buf, size_t len, size_t *name_off, size_t *namelen)
{
    const char *p = buf, *end = buf + len, *next;
    long long argc, blen;
    int rc;

    if (len == 0 || *p != '*')
        return -1;
    if ((rc = ref_number(p + 1, end, REQ_MAX_ARGS, &argc, &next)) != 0)
        return rc == 1 ? 0 : -1;
    if (argc < 1)
        return -1;
    p = next;
    for (long long i = 0; i < argc; i++) {
        if (p == end)
            return 0;
        if (*p != '$')
            return -1;
        if ((rc = ref_number(p + 1, end, REQ_MAX_BULK, &blen, &next)) != 0)
            return rc == 1 ? 0 : -1;
        p = next;
        if ((size_t)(end - p) < (size_t)blen + 2)
            return 0;
        if (p[blen] != '\r' || p[blen + 1] != '\n')
            return -1;
        if (i == 0) {
            *name_off = (size_t)(p - buf);
            *namelen = (size_t)blen;
        }
        p += blen + 2;
    }
    return p - buf;
}

static ssize_t scan_copy(const char *src, size_t len, size_t *name_off, size_t *namelen)
{
    char *c = copy_exact(src, len);
    const char *name = NULL;
    size_t nl = 0;
    ssize_t rc = px_req_scan(c, len, &name, &nl);

    FUZZ_CHECK(rc >= -1 && rc <= (ssize_t)len);
    if (rc > 0) {
        FUZZ_CHECK(name != NULL && name >= c && name + nl <= c + rc);
        *name_off = (size_t)(name - c);
        *namelen = nl;
    }
    free(c);
    return rc;
}

static int shareable_copy(const char *name, size_t len)
{
    char *c = copy_exact(name, len);
    int rc = px_cmd_shareable(c, len);

    free(c);
    return rc;
}

static void check_shareable(const char *name, size_t len)
{
    char up[32], low[32];
    int rc = shareable_copy(name, len);

    FUZZ_CHECK(rc == 0 || rc == 1);
    if (rc == 1) {
        FUZZ_CHECK(len >= 1 && len <= 16);
        for (size_t i = 0; i < len; i++) {
            char ch = name[i];
            FUZZ_CHECK((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_');
        }
    }
    if (len <= sizeof(up)) {
        for (size_t i = 0; i < len; i++) {
            char ch = name[i];
            up[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
            low[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        }
        FUZZ_CHECK(shareable_copy(up, len) == rc);
        FUZZ_CHECK(shareable_copy(low, len) == rc);
    }
}

/* px_req_arg on a framed command: argument 0 is the name, every argument
 * lies inside the command and after the previous one, and the first index
 * it refuses is the end (no argument after a refused one). */
static void check_args(const char *cmd, size_t len, size_t name_off, size_t namelen)
{
    char *c = copy_exact(cmd, len);
    const char *arg, *prev_end = c;
    size_t alen, i;

    FUZZ_CHECK(px_req_arg(c, len, 0, &arg, &alen) == 0);
    FUZZ_CHECK(arg == c + name_off && alen == namelen);
    for (i = 0; i < 64 && px_req_arg(c, len, i, &arg, &alen) == 0; i++) {
        FUZZ_CHECK(arg >= prev_end && arg + alen + 2 <= c + len);
        prev_end = arg + alen + 2;
    }
    if (i < 64)
        FUZZ_CHECK(px_req_arg(c, len, i + 1, &arg, &alen) == -1);
    else
        FUZZ_CHECK(prev_end <= c + len);
    free(c);
}

static void check_requests(const char *buf, size_t len, uint32_t *rng)
{
    size_t off = 0;

    for (int i = 0; i < MAX_COMMANDS && off < len; i++) {
        const char *p = buf + off;
        size_t left = len - off, name_off = 0, nl = 0, ref_name = 0, ref_nl = 0;
        ssize_t rc = scan_copy(p, left, &name_off, &nl);
        long long ref = ref_frame(p, left, &ref_name, &ref_nl);

        /* Framed exactly when the reference frames, the same bytes. */
        FUZZ_CHECK((rc > 0) == (ref > 0));
        if (rc <= 0) {
            /* Not framed: the name decision still must be sane. */
            check_shareable(p, left < 24 ? left : 24);
            break;
        }
        FUZZ_CHECK(p[0] == '*' && rc == ref && name_off == ref_name && nl == ref_nl);
        FUZZ_CHECK(rc >= 10); /* "*1\r\n$0\r\n\r\n" is the shortest */
        check_shareable(p + name_off, nl);
        check_args(p, (size_t)rc, name_off, nl);

        /* Alone, and followed by other bytes: framed the same. */
        {
            size_t n2 = 0, nl2 = 0;
            FUZZ_CHECK(scan_copy(p, (size_t)rc, &n2, &nl2) == rc && n2 == name_off &&
                       nl2 == nl);
        }
        {
            static const char tails[][8] = {"*1\r\n$4\r\n", "\r\n\r\n\r\n\r\n", "$-1\r\n*0\r"};
            const char *tail = tails[rng_next(rng) % 3];
            char *ext = malloc((size_t)rc + 8);
            size_t n2 = 0, nl2 = 0;
            if (ext == NULL)
                abort();
            memcpy(ext, p, (size_t)rc);
            memcpy(ext + rc, tail, 8);
            FUZZ_CHECK(scan_copy(ext, (size_t)rc + 8, &n2, &nl2) == rc && n2 == name_off &&
                       nl2 == nl);
            free(ext);
        }
        /* Shorter: incomplete, never malformed. A few prefixes, not all. */
        {
            size_t pre[6] = {0, 1, (size_t)rc - 1, (size_t)rc - 2, 0, 0};
            pre[4] = rng_next(rng) % (size_t)rc;
            pre[5] = rng_next(rng) % (size_t)rc;
            for (int k = 0; k < 6; k++) {
                size_t n2, nl2;
                ssize_t prc = scan_copy(p, pre[k], &n2, &nl2);
                if (prc != 0 && fuzz_verbose())
                    fprintf(stderr, "prefix %zu of a %zd-byte command: %zd\n", pre[k], rc, prc);
                FUZZ_CHECK(prc == 0);
            }
        }
        off += (size_t)rc;
    }
}

/* ------------------------------------------------------------------------
 * Replies
 * ------------------------------------------------------------------------ */

typedef struct framing {
    size_t *ends; /* stream offsets where a reply ended */
    size_t n;
    int error;
    size_t err_lo, err_hi; /* what the failing call was given */
} framing;

/* mode 0: all at once; 1: a byte at a time; 2: sizes from rng. */
static void feed(const char *buf, size_t len, int mode, uint32_t seed, framing *f)
{
    px_rep r;
    size_t off = 0;
    uint32_t rng = seed * 2654435761u | 1;
    uint32_t cap = 1u << (seed % 13); /* largest read: 1 B .. 4 KiB */

    f->n = 0;
    f->error = 0;
    px_rep_init(&r);
    while (off < len && !f->error) {
        size_t chunk = len - off;
        if (mode == 1)
            chunk = 1;
        else if (mode == 2) {
            size_t want = 1 + rng_next(&rng) % cap;
            if (want < chunk)
                chunk = want;
        }
        /* A read buffer of its own: nothing read beyond what was received. */
        char *c = copy_exact(buf + off, chunk);
        size_t used = 0;
        while (used < chunk) {
            int done = -1;
            ssize_t n = px_rep_feed(&r, c + used, chunk - used, &done);
            if (n < 0) {
                FUZZ_CHECK(n == -1);
                f->error = 1;
                f->err_lo = off + used;
                f->err_hi = off + chunk;
                break;
            }
            FUZZ_CHECK(done == 0 || done == 1);
            FUZZ_CHECK((size_t)n <= chunk - used);
            FUZZ_CHECK(done ? n > 0 : (size_t)n == chunk - used);
            used += (size_t)n;
            if (done) {
                FUZZ_CHECK(f->n < len);
                f->ends[f->n++] = off + used;
            }
        }
        free(c);
        off += chunk;
    }
}

static void same_framing(const framing *a, const framing *b)
{
    FUZZ_CHECK(a->n == b->n);
    FUZZ_CHECK(memcmp(a->ends, b->ends, a->n * sizeof(a->ends[0])) == 0);
    FUZZ_CHECK(a->error == b->error);
}

static void check_replies(const char *buf, size_t len, uint32_t seed)
{
    framing whole, bytes, chunks;
    size_t *mem = malloc(3 * (len + 1) * sizeof(size_t));

    if (mem == NULL)
        abort();
    whole.ends = mem;
    bytes.ends = mem + len + 1;
    chunks.ends = mem + 2 * (len + 1);
    feed(buf, len, 0, seed, &whole);
    feed(buf, len, 1, seed, &bytes);
    feed(buf, len, 2, seed, &chunks);
    if (fuzz_verbose())
        fprintf(stderr, "replies: %zu whole, %zu bytewise, %zu chunked; error %d/%d/%d\n",
                whole.n, bytes.n, chunks.n, whole.error, bytes.error, chunks.error);
    same_framing(&whole, &bytes);
    same_framing(&whole, &chunks);
    for (size_t i = 1; i < whole.n; i++)
        FUZZ_CHECK(whole.ends[i] > whole.ends[i - 1]);
    if (whole.n > 0)
        FUZZ_CHECK(whole.ends[whole.n - 1] <= len && whole.ends[0] >= 3);
    if (bytes.error) {
        /* Byte by byte, the failing call names the byte; any other reading
         * fails in the call that was given that byte. */
        size_t at = bytes.err_lo;
        FUZZ_CHECK(bytes.err_hi == at + 1);
        FUZZ_CHECK(at >= (whole.n ? whole.ends[whole.n - 1] : 0));
        FUZZ_CHECK(whole.err_lo <= at && at < whole.err_hi);
        FUZZ_CHECK(chunks.err_lo <= at && at < chunks.err_hi);
    }
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in, *sep, *req, *rep;
    size_t n, req_len, rep_len;
    uint32_t rng;

    if (size < 1)
        return 0;
    in = (const char *)data + 1;
    n = size - 1;
    sep = memmem(in, n, "\n--\n", 4);
    if (sep != NULL) {
        req = in;
        req_len = (size_t)(sep - in);
        rep = sep + 4;
        rep_len = n - req_len - 4;
    } else {
        req = rep = in;
        req_len = rep_len = n;
    }
    rng = (uint32_t)data[0] * 2654435761u ^ (uint32_t)size;
    check_requests(req, req_len, &rng);
    check_replies(rep, rep_len, data[0]);
    return 0;
}
