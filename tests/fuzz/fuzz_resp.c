/*
 * Fuzz target: the proxy's RESP framing for multiplexed clients
 * (src/proxy/resp.c): px_req_scan and px_cmd_shareable on what a client
 * sends, px_rep_feed on what a shared master connection sends back.
 *
 * The oracle is independent of the code under test: hiredis' own reader
 * (redisReader, the Debian hiredis the library links), driven with reply
 * functions that build nothing and only note the shape of what it read.
 *
 * Input: one byte that picks the read sizes, then the client's bytes and the
 * master's bytes separated by "\n--\n" (without a separator, the same bytes
 * are both). Beyond "no crash":
 *  - requests: px_req_scan frames a command exactly when hiredis reads a
 *    whole first reply that Redis would run as a command (an array of 1..1M
 *    bulk strings of at most 512 MB, each followed by CRLF, nothing nested,
 *    no nil: processMultibulkBuffer's rules), ending at the same byte, with
 *    the same name. When hiredis finds a protocol error, or a whole reply of
 *    another shape, px_req_scan says malformed (-1). When hiredis needs more
 *    bytes px_req_scan says 0, or -1 if it already sees a violation
 *    (a bulk over 512 MB, a wrong CR); that early -1 is checked the other
 *    way: shorter prefixes of a framed command are incomplete (0), never
 *    malformed. A framed command frames the same with bytes after it.
 *    px_cmd_shareable is 0 or 1, case-insensitive, and only says yes to
 *    1..16 letters or '_'.
 *  - replies: px_rep_feed and hiredis end the replies they both read at the
 *    same bytes. Where hiredis reads every reply, so does px_rep_feed. px may
 *    stop earlier than hiredis only where it is stricter than hiredis 0.14.1
 *    (a bulk not followed by CRLF, a CR inside a status line, a bulk length
 *    of 19 digits), and go on after hiredis gave up only where hiredis is
 *    stricter than Redis needs (arrays nested deeper than hiredis' 7
 *    levels) or px does not look (leading zeros in a length, the digits of
 *    an integer reply). To check that
 *    strictness never refuses what Redis sends, every reply hiredis read is
 *    written again the way Redis writes it (canonical RESP2) and px must
 *    frame all of it, at the same ends, fed whole and in pieces.
 *    Fed whole, byte by byte, and in reads of varying sizes, px finds the
 *    same replies ending at the same offsets, and fails (or not) the same
 *    way, the failing read holding the byte where byte-by-byte feeding
 *    failed. Every call consumes no more than it got, all of it when no
 *    reply ended.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/read.h>

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
 * The oracle: hiredis' reader
 * ------------------------------------------------------------------------ */

/* Any non-NULL pointer: hiredis only checks that an object was made. */
static char oracle_obj;

typedef struct oracle {
    redisReader *r;
    size_t fed;
    /* Every whole reply, in order: where it ended in the input, and where
     * its canonical copy ends in out. */
    size_t *ends, *canon_ends;
    size_t n;
    int error;  /* hiredis refused the stream after n replies */
    char errstr[128];
    /* The canonical (as Redis writes it) copy of what hiredis read. */
    char *out;
    size_t outlen, outcap;
    /* The first reply as a request: 1 once anything made it not one. */
    int not_a_command;
    size_t name_off, namelen; /* its first element, once read */
    int have_name;
} oracle;

static void out_add(oracle *o, const void *p, size_t len)
{
    if (o->outlen + len > o->outcap) {
        size_t cap = o->outcap ? o->outcap : 256;
        while (cap < o->outlen + len)
            cap *= 2;
        if ((o->out = realloc(o->out, cap)) == NULL)
            abort();
        o->outcap = cap;
    }
    memcpy(o->out + o->outlen, p, len);
    o->outlen += len;
}

static void out_fmt(oracle *o, const char *fmt, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof(b), fmt, v);

    out_add(o, b, (size_t)n);
}

static int depth_of(const redisReadTask *t)
{
    int d = 0;

    while (t->parent != NULL) {
        t = t->parent;
        d++;
    }
    return d;
}

/* Only the first reply is judged as a request. */
static int first_reply(const oracle *o)
{
    return o->n == 0;
}

static void *o_string(const redisReadTask *t, char *str, size_t len)
{
    oracle *o = t->privdata;

    if (t->type == REDIS_REPLY_STRING) {
        out_fmt(o, "$%lld\r\n", (long long)len);
        out_add(o, str, len);
        out_add(o, "\r\n", 2);
        if (first_reply(o)) {
            /* hiredis skips the two bytes after a bulk unread; Redis wants CRLF. */
            if (depth_of(t) != 1 || (long long)len > REQ_MAX_BULK || str[len] != '\r' ||
                str[len + 1] != '\n')
                o->not_a_command = 1;
            if (t->idx == 0) {
                o->name_off = (size_t)(str - o->r->buf) + (o->fed - o->r->len);
                o->namelen = len;
                o->have_name = 1;
            }
        }
    } else {
        /* Status or error: Redis never puts CR or LF in one (addReplyError
         * turns them into spaces). */
        out_add(o, t->type == REDIS_REPLY_ERROR ? "-" : "+", 1);
        for (size_t i = 0; i < len; i++)
            out_add(o, str[i] == '\r' || str[i] == '\n' ? " " : &str[i], 1);
        out_add(o, "\r\n", 2);
        if (first_reply(o))
            o->not_a_command = 1;
    }
    return &oracle_obj;
}

static void *o_array(const redisReadTask *t, int elements)
{
    oracle *o = t->privdata;

    out_fmt(o, "*%lld\r\n", elements);
    if (first_reply(o) && (depth_of(t) != 0 || elements < 1 || elements > REQ_MAX_ARGS))
        o->not_a_command = 1;
    return &oracle_obj;
}

static void *o_integer(const redisReadTask *t, long long v)
{
    oracle *o = t->privdata;

    out_fmt(o, ":%lld\r\n", v);
    if (first_reply(o))
        o->not_a_command = 1;
    return &oracle_obj;
}

static void *o_nil(const redisReadTask *t)
{
    oracle *o = t->privdata;

    out_add(o, t->type == REDIS_REPLY_ARRAY ? "*-1\r\n" : "$-1\r\n", 5);
    if (first_reply(o))
        o->not_a_command = 1;
    return &oracle_obj;
}

static void o_free(void *obj)
{
    (void)obj;
}

static redisReplyObjectFunctions oracle_fns = {o_string, o_array, o_integer, o_nil, o_free};

/* Read buf with hiredis: at most max_replies whole replies, or until it
 * refuses the stream or needs more bytes. */
static void oracle_read(oracle *o, const char *buf, size_t len, size_t max_replies)
{
    memset(o, 0, sizeof(*o));
    o->ends = malloc((len + 1) * sizeof(size_t));
    o->canon_ends = malloc((len + 1) * sizeof(size_t));
    o->r = redisReaderCreateWithFunctions(&oracle_fns);
    if (o->ends == NULL || o->canon_ends == NULL || o->r == NULL)
        abort();
    o->r->privdata = o; /* redisReaderSetPrivdata() casts the pointer to int */
    if (len > 0 && redisReaderFeed(o->r, buf, len) != REDIS_OK)
        abort();
    o->fed = len;
    while (o->n < max_replies) {
        void *reply = NULL;

        if (redisReaderGetReply(o->r, &reply) != REDIS_OK) {
            o->error = 1;
            snprintf(o->errstr, sizeof(o->errstr), "%s", o->r->errstr);
            break;
        }
        if (reply == NULL)
            break;
        /* What hiredis has not consumed is the tail of what it was fed
         * (it may drop consumed bytes from its buffer between replies). */
        FUZZ_CHECK(o->n < len);
        o->ends[o->n] = len - (o->r->len - o->r->pos);
        o->canon_ends[o->n] = o->outlen;
        o->n++;
    }
    /* A reply hiredis did not finish leaves no canonical copy. */
    o->outlen = o->n ? o->canon_ends[o->n - 1] : 0;
    redisReaderFree(o->r);
    o->r = NULL;
}

static void oracle_free(oracle *o)
{
    free(o->ends);
    free(o->canon_ends);
    free(o->out);
}

/* ------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------ */

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
        size_t left = len - off, name_off = 0, nl = 0;
        ssize_t rc = scan_copy(p, left, &name_off, &nl);
        oracle o;
        int command;

        oracle_read(&o, p, left, 1);
        command = o.n == 1 && !o.not_a_command;
        if (fuzz_verbose())
            fprintf(stderr, "request at %zu: px %zd; hiredis %s%s%s\n", off, rc,
                    o.error ? "error: " : o.n ? "whole reply" : "needs more",
                    o.error ? o.errstr : "", o.not_a_command ? ", not a command" : "");
        /* Framed exactly when hiredis reads a command, the same bytes. */
        FUZZ_CHECK((rc > 0) == command);
        if (rc <= 0) {
            /* A stream hiredis refuses, or a reply that is no command (even
             * one still incomplete), is malformed, never "wait for more". */
            if (o.error || o.not_a_command)
                FUZZ_CHECK(rc == -1);
            oracle_free(&o);
            /* Not framed: the name decision still must be sane. */
            check_shareable(p, left < 24 ? left : 24);
            break;
        }
        FUZZ_CHECK(p[0] == '*' && (size_t)rc == o.ends[0]);
        FUZZ_CHECK(o.have_name && name_off == o.name_off && nl == o.namelen);
        oracle_free(&o);
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

/*
 * px's framing of the input (fed whole) against hiredis' reading of it, and
 * px's framing of the canonical copy of what hiredis read.
 */
static void check_against_hiredis(const char *buf, size_t len, const framing *px, uint32_t seed)
{
    oracle o;
    framing canon, canon_chunks;
    size_t k;

    oracle_read(&o, buf, len, len + 1);
    if (fuzz_verbose())
        fprintf(stderr, "hiredis: %zu replies%s%s\n", o.n, o.error ? ", then: " : "",
                o.error ? o.errstr : "");
    /* The replies both read end at the same bytes. */
    k = px->n < o.n ? px->n : o.n;
    for (size_t i = 0; i < k; i++)
        FUZZ_CHECK(px->ends[i] == o.ends[i]);
    /* Where hiredis reads every whole reply, px does not stop early or
     * frame a reply hiredis is still waiting for. */
    if (!px->error && !o.error)
        FUZZ_CHECK(px->n == o.n);
    if (!o.error)
        FUZZ_CHECK(px->n <= o.n);
    /* px frames past a point where hiredis gave up only for a number or
     * depth hiredis refuses (never for a wrong type byte, say): px does not
     * read the digits of an integer reply, nor look for leading zeros. */
    if (o.error && px->n > o.n)
        FUZZ_CHECK(strcmp(o.errstr, "Bad bulk string length") == 0 ||
                   strcmp(o.errstr, "Bad multi-bulk length") == 0 ||
                   strcmp(o.errstr, "Multi-bulk length out of range") == 0 || /* > INT_MAX */
                   strcmp(o.errstr, "Bad integer value") == 0 ||
                   strstr(o.errstr, "nested") != NULL);

    /* Every reply hiredis read, as Redis would write it: px frames it all,
     * the same replies, whole and in reads of varying sizes. */
    canon.ends = malloc((o.outlen + 1) * sizeof(size_t));
    canon_chunks.ends = malloc((o.outlen + 1) * sizeof(size_t));
    if (canon.ends == NULL || canon_chunks.ends == NULL)
        abort();
    feed(o.out, o.outlen, 0, seed, &canon);
    feed(o.out, o.outlen, 2, seed, &canon_chunks);
    if (fuzz_verbose() && (canon.error || canon.n != o.n))
        fprintf(stderr, "canonical copy (%zu bytes): px framed %zu of %zu, error %d\n",
                o.outlen, canon.n, o.n, canon.error);
    FUZZ_CHECK(!canon.error && canon.n == o.n);
    FUZZ_CHECK(memcmp(canon.ends, o.canon_ends, o.n * sizeof(size_t)) == 0);
    same_framing(&canon, &canon_chunks);
    free(canon.ends);
    free(canon_chunks.ends);
    oracle_free(&o);
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
    check_against_hiredis(buf, len, &whole, seed);
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
