/*
 * Regression tests for sentinel-proxy's multiplexer and admin endpoint
 * (issue 10, defects 1-9), driven from inside: this file includes proxy.c,
 * builds a proxy without sentinels whose verified master is a fake master
 * played by the test (a loopback listener; each shared connection is a
 * real TCP connection the test reads and answers command by command), and
 * its clients are socketpairs. The test owns the clock (p->now) and runs
 * the loop itself, so a stall, a refused SELECT, a lost connection or a
 * pause-timeout happens exactly where the scenario puts it, with no sleeps.
 *
 * Linked with --wrap=explicit_bzero (to see that buffers holding an AUTH
 * are wiped), --wrap=accept4 (to make the admin listener's accept fail
 * with EMFILE) and --wrap=px_tls_close_notify (to see on which closes the
 * proxy would send TLS close_notify).
 *
 * Length: one scenario per defect plus the fake master; kept in one file
 * because every scenario shares the harness at the top.
 *
 * Past 800 lines: one regression test per defect of issue 10 (and those
 * the fuzzer found since), all on the same in-process fake master and clock.
 */
#include "proxy/proxy.c"
#include "proxy/conn.c"
#include "proxy/mux.c"
#include "proxy/master.c"

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* ---- wrapped libc ------------------------------------------------------- */

#define SECRET "s3cr3t-pass"

static int secret_wipes;
void __real_explicit_bzero(void *s, size_t n);
void __wrap_explicit_bzero(void *s, size_t n)
{
    if (n >= 6 && memmem(s, n, SECRET, 6) != NULL)
        secret_wipes++;
    __real_explicit_bzero(s, n);
}

static int accept_fail, accept_calls;
int __real_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);
int __wrap_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    accept_calls++;
    if (accept_fail) {
        errno = EMFILE;
        return -1;
    }
    return __real_accept4(fd, sa, len, flags);
}

/* fds the proxy asked to send close_notify on (with TLS off it is a no-op) */
static int notified[64], nnotified;
void __real_px_tls_close_notify(px_tls *t, int fd);
void __wrap_px_tls_close_notify(px_tls *t, int fd)
{
    if (nnotified < 64)
        notified[nnotified++] = fd;
    __real_px_tls_close_notify(t, fd);
}

static int was_notified(int fd)
{
    for (int i = 0; i < nnotified; i++)
        if (notified[i] == fd)
            return 1;
    return 0;
}

/* ---- a proxy with a fake master ------------------------------------------ */

static int master_listen(int *port)
{
    char err[128];
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = px_listen_tcp("127.0.0.1", 0, 128, err, sizeof(err));

    assert_true(fd >= 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static sentinel_proxy_t *fake_proxy(size_t bufsize, int *mfd)
{
    sentinel_proxy_t *p = calloc(1, sizeof(*p));
    sn_hostport hp;

    assert_non_null(p);
    p->log.level = getenv("PX_TEST_DEBUG") ? SENTINEL_PROXY_LOG_DEBUG : SENTINEL_PROXY_LOG_ERROR;
    p->tcp_fd = p->unix_fd = p->wake_r = p->wake_w = -1;
    p->loop = px_loop_new(4096);
    assert_non_null(p->loop);
    px_loop_set_owner(p->loop, p);
    p->bufsize = bufsize;
    p->scratch = malloc(bufsize);
    p->multiplex = 1;
    p->max_clients = 1000;
    p->pause_ms = 1000;
    p->connect_ms = p->command_ms = 1000;
    p->probe_ms = 20;
    snprintf(p->master_name, sizeof(p->master_name), "mymaster");
    p->now = 1000000;
    p->state = PX_MASTER_NONE;
    p->state_since = p->down_since = p->now;
    *mfd = master_listen(&hp.port);
    snprintf(hp.host, sizeof(hp.host), "127.0.0.1");
    px_master_verified(p, &hp);
    assert_int_equal(p->state, PX_MASTER_UP);
    return p;
}

/* What sentinel_proxy_step() does, minus the clock, watcher and probe. */
static void pump(sentinel_proxy_t *p, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        px_loop_wait(p->loop, 1);
        if (p->sh_kick)
            px_mux_deliver_all(p);
        px_mux_flush_all(p);
    }
}

/* A client: one end of a socketpair handed to the proxy as accepted. */
static int client_sndbuf(sentinel_proxy_t *p, int proxy_sndbuf)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    if (proxy_sndbuf)
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &proxy_sndbuf, sizeof(proxy_sndbuf));
    accept_one(p, sv[0], 0);
    return sv[1];
}

static int client(sentinel_proxy_t *p)
{
    return client_sndbuf(p, 0);
}

static void send_all(sentinel_proxy_t *p, int fd, const char *s, size_t len)
{
    size_t off = 0;

    for (int i = 0; off < len && i < 10000; i++) {
        ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else
            pump(p, 1);
    }
    assert_int_equal(off, len);
}

static void send_str(sentinel_proxy_t *p, int fd, const char *s)
{
    send_all(p, fd, s, strlen(s));
}

/* A RESP command from its arguments. */
static size_t fmt_cmd(char *out, size_t cap, int argc, const char **argv)
{
    size_t n = (size_t)snprintf(out, cap, "*%d\r\n", argc);

    for (int i = 0; i < argc; i++)
        n += (size_t)snprintf(out + n, cap - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    return n;
}

typedef struct rd {
    char buf[1 << 21];
    size_t len;
    int eof;
} rd;

static void rd_reset(rd *r)
{
    r->len = 0;
    r->eof = 0;
    r->buf[0] = '\0';
}

/* Read what fd has, pumping the proxy, until `needle` was read or (needle
 * NULL) the end; at most `rounds` rounds. 1 when that happened. */
static int read_until(sentinel_proxy_t *p, int fd, rd *r, const char *needle, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        for (;;) {
            ssize_t n = recv(fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len, 0);
            if (n == 0)
                r->eof = 1;
            if (n <= 0)
                break;
            r->len += (size_t)n;
        }
        r->buf[r->len] = '\0';
        if (needle ? memmem(r->buf, r->len, needle, strlen(needle)) != NULL : r->eof)
            return 1;
        if (r->eof)
            return 0;
        pump(p, 1);
    }
    return 0;
}

/* ---- the fake master ------------------------------------------------------- */

/* Answer for one command (argv[0] is the name): a reply, or NULL to hold
 * it and everything after it until asked again. */
typedef const char *fm_answer(int argc, char **argv, size_t *alen, void *ud, size_t *replen);

typedef struct fm_conn {
    int fd;
    char in[1 << 18];
    size_t inlen, inpos;
    char *out;
    size_t outlen, outpos, outcap;
    int eof;
    int ncmd;          /* commands answered */
    char seen[4096];   /* names of every command received, space separated */
    size_t seenlen;
} fm_conn;

static fm_conn *fm_accept(sentinel_proxy_t *p, int lfd, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        int fd = __real_accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            fm_conn *c = calloc(1, sizeof(*c));
            assert_non_null(c);
            c->fd = fd;
            return c;
        }
        pump(p, 1);
    }
    return NULL;
}

static void fm_close(fm_conn *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    free(c->out);
    free(c);
}

static void fm_queue(fm_conn *c, const char *s, size_t len)
{
    if (c->outlen + len > c->outcap) {
        c->outcap = (c->outlen + len) * 2;
        c->out = realloc(c->out, c->outcap);
        assert_non_null(c->out);
    }
    memcpy(c->out + c->outlen, s, len);
    c->outlen += len;
}

/* One complete command at in[inpos..): its length, 0 if incomplete. */
static size_t fm_parse(fm_conn *c, int *argc, char **argv, size_t *alen)
{
    const char *s = c->in + c->inpos, *end = c->in + c->inlen, *q;
    long n;

    if (s >= end || *s != '*' || (q = memchr(s, '\n', (size_t)(end - s))) == NULL)
        return 0;
    n = strtol(s + 1, NULL, 10);
    s = q + 1;
    for (long i = 0; i < n; i++) {
        long l;
        if (s >= end || (q = memchr(s, '\n', (size_t)(end - s))) == NULL)
            return 0;
        l = strtol(s + 1, NULL, 10);
        s = q + 1;
        if (end - s < l + 2)
            return 0;
        if (i < 8) {
            argv[i] = (char *)s;
            alen[i] = (size_t)l;
        }
        s += l + 2;
    }
    *argc = n < 8 ? (int)n : 8;
    return (size_t)(s - (c->in + c->inpos));
}

/* Read, answer what `ans` answers, write. batch: answer only once no
 * new bytes came in a round, all in one write (as a master that was busy
 * while they arrived). */
static void fm_step_how(fm_conn *c, fm_answer *ans, void *ud, int batch)
{
    size_t had = c->inlen;

    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
        if (n == 0)
            c->eof = 1;
        if (n <= 0)
            break;
        c->inlen += (size_t)n;
    }
    for (; !(batch && c->inlen > had);) {
        int argc = 0;
        char *argv[8];
        size_t alen[8], rlen = 0, k = fm_parse(c, &argc, argv, alen);
        const char *rep;
        if (k == 0)
            break;
        rep = ans(argc, argv, alen, ud, &rlen);
        if (rep == NULL)
            break;
        if (c->seenlen + alen[0] + 2 < sizeof(c->seen)) {
            memcpy(c->seen + c->seenlen, argv[0], alen[0]);
            c->seenlen += alen[0];
            c->seen[c->seenlen++] = ' ';
            c->seen[c->seenlen] = '\0';
        }
        fm_queue(c, rep, rlen ? rlen : strlen(rep));
        c->inpos += k;
        c->ncmd++;
    }
    while (c->outpos < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outpos, c->outlen - c->outpos, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        c->outpos += (size_t)n;
    }
}

static void fm_step(fm_conn *c, fm_answer *ans, void *ud)
{
    fm_step_how(c, ans, ud, 0);
}

static int is_cmd(char **argv, size_t *alen, const char *name)
{
    return alen[0] == strlen(name) && strncasecmp(argv[0], name, alen[0]) == 0;
}

static rd R; /* one read buffer at a time (big: static) */

/* Serve m with ans and read the client c into R until `needle` (NULL: the
 * end) came; 1 when it did. */
static int serve_until(sentinel_proxy_t *p, fm_conn *m, fm_answer *ans, int c, const char *needle)
{
    rd_reset(&R);
    for (int i = 0; i < 300; i++) {
        fm_step(m, ans, NULL);
        if (read_until(p, c, &R, needle, 1))
            return 1;
        if (R.eof)
            return 0;
    }
    return 0;
}

/* c sends cmd, which opens a shared connection: the master's end of it. */
static fm_conn *send_opening(sentinel_proxy_t *p, int c, const char *cmd, int mfd)
{
    fm_conn *m;

    send_str(p, c, cmd);
    m = fm_accept(p, mfd, 200);
    assert_non_null(m);
    return m;
}

/* Answers as Redis with no password configured would, GETs with "val". */
static const char *ans_plain(int argc, char **argv, size_t *alen, void *ud, size_t *replen)
{
    (void)argc;
    (void)ud;
    (void)replen;
    if (is_cmd(argv, alen, "AUTH"))
        return "-ERR AUTH <password> called without any password configured for the default "
               "user. Are you sure your configuration is correct?\r\n";
    if (is_cmd(argv, alen, "GET"))
        return "$3\r\nval\r\n";
    if (is_cmd(argv, alen, "PING"))
        return "+PONG\r\n";
    return "+OK\r\n";
}

/* Holds GETs (a paused master), answers the rest as ans_plain. */
static const char *ans_hold_get(int argc, char **argv, size_t *alen, void *ud, size_t *replen)
{
    if (is_cmd(argv, alen, "GET"))
        return NULL;
    return ans_plain(argc, argv, alen, ud, replen);
}

/* Accepts every AUTH (a master with that password), holds GETs. */
static const char *ans_auth_ok(int argc, char **argv, size_t *alen, void *ud, size_t *replen)
{
    if (is_cmd(argv, alen, "AUTH"))
        return "+OK\r\n";
    return ans_hold_get(argc, argv, alen, ud, replen);
}

/* ---- defect 9: sentinel_proxy_get_stats() honours size --------------------- */

static void test_get_stats_size(void **state)
{
    int mfd;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    union {
        sentinel_proxy_stats st;
        unsigned char raw[sizeof(sentinel_proxy_stats) + 64];
    } u;

    (void)state;
    for (size_t size = 1; size < sizeof(size_t); size++) {
        memset(&u, 0xAA, sizeof(u));
        u.st.size = size;
        assert_int_equal(sentinel_proxy_get_stats(p, &u.st), SENTINEL_ERR_INVALID_ARGUMENT);
        for (size_t i = sizeof(size_t); i < sizeof(u.raw); i++)
            assert_int_equal(u.raw[i], 0xAA);
    }
    memset(&u, 0xAA, sizeof(u));
    u.st.size = 16; /* an old, smaller struct: filled up to 16 bytes, no further */
    assert_int_equal(sentinel_proxy_get_stats(p, &u.st), 0);
    assert_int_equal(u.st.size, 16);
    for (size_t i = 16; i < sizeof(u.raw); i++)
        assert_int_equal(u.raw[i], 0xAA);
    memset(&u, 0, sizeof(u));
    u.st.size = sizeof(u.raw); /* a newer, bigger struct: told how much was filled */
    assert_int_equal(sentinel_proxy_get_stats(p, &u.st), 0);
    assert_int_equal(u.st.size, sizeof(sentinel_proxy_stats));
    assert_int_equal(u.st.master_up, 1);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- defect 6: the admin endpoint --------------------------------------------- */

static int tcp_connect(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* GET /ready on fd: 1 when "200 OK" came back. */
static int ready_answered(sentinel_proxy_t *p, int fd)
{
    rd_reset(&R);
    R.len = 0;
    R.eof = 0;
    send_str(p, fd, "GET /ready HTTP/1.0\r\n\r\n");
    read_until(p, fd, &R, NULL, 500);
    return strncmp(R.buf, "HTTP/1.0 200 OK", 15) == 0;
}

static void test_admin_idle_connections(void **state)
{
    int mfd, idle[8], fd;
    char err[128];
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    px_admin *a = px_admin_new(p->loop, "127.0.0.1", 0, admin_snapshot, p, err, sizeof(err));

    (void)state;
    assert_non_null(a);
    for (int i = 0; i < 8; i++)
        idle[i] = tcp_connect(px_admin_port(a)); /* connect and say nothing */
    pump(p, 20);
    fd = tcp_connect(px_admin_port(a));
    assert_true(ready_answered(p, fd)); /* not starved by the idle eight */
    close(fd);
    for (int i = 0; i < 8; i++)
        close(idle[i]);
    px_admin_free(a);
    sentinel_proxy_free(p);
    close(mfd);
}

static void test_admin_accept_emfile(void **state)
{
    int mfd, fd;
    char err[128];
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    px_admin *a = px_admin_new(p->loop, "127.0.0.1", 0, admin_snapshot, p, err, sizeof(err));

    (void)state;
    assert_non_null(a);
    fd = tcp_connect(px_admin_port(a));
    accept_fail = 1;
    accept_calls = 0;
    pump(p, 50);
    accept_fail = 0;
    /* One failed accept pauses the listener instead of 50 wakeups. */
    assert_in_range(accept_calls, 1, 2);
    px_admin_tick(a, sn_now_ms()); /* the next tick accepts again */
    assert_true(ready_answered(p, fd));
    close(fd);
    px_admin_free(a);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- defect 1: AUTH queued while no master, then the preamble -------------- */

static void test_preamble_fits(void **state)
{
    enum { N = 90 };
    int mfd, cl[N];
    char pw[1001], cmd[1100];
    const char *argv[2] = {"AUTH", pw};
    const char *want = "-ERR AUTH <password> called without any password configured";
    size_t len;
    sentinel_proxy_t *p = fake_proxy(1024, &mfd);
    fm_conn *m;

    (void)state;
    memset(pw, 'p', 1000);
    pw[1000] = '\0';
    len = fmt_cmd(cmd, sizeof(cmd), 2, argv);
    for (int i = 0; i < N; i++)
        cl[i] = client(p);
    /* The master went away: the proxy holds what the clients send. */
    set_state(p, PX_MASTER_SUSPECT, "test");
    for (int i = 0; i < N; i++) {
        send_all(p, cl[i], cmd, len);
        pump(p, 2);
    }
    set_state(p, PX_MASTER_UP, "test: the master is back");
    m = fm_accept(p, mfd, 200);
    assert_non_null(m);
    for (int i = 0; i < 400; i++) {
        fm_step(m, ans_plain, NULL);
        pump(p, 1);
    }
    /* Every client gets Redis' answer to its AUTH, none is dropped. */
    for (int i = 0; i < N; i++) {
        rd_reset(&R);
        assert_true(read_until(p, cl[i], &R, "\r\n", 50));
        assert_int_equal(strncmp(R.buf, want, strlen(want)), 0);
        assert_false(R.eof);
        close(cl[i]);
    }
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- defect 2: a client freed while its replies are queued ----------------- */

/* Answers *(int *)ud SELECTs, then holds. */
static const char *ans_first_selects(int argc, char **argv, size_t *alen, void *ud,
                                     size_t *replen)
{
    int *budget = ud;

    if (!is_cmd(argv, alen, "SELECT") || *budget == 0)
        return NULL;
    (*budget)--;
    return ans_plain(argc, argv, alen, ud, replen);
}

static void test_no_reply_to_freed_client(void **state)
{
    enum { NX = 8, NGET = 50 };
    int mfd, x[NX], z, w;
    char pipe_buf[1100];
    size_t len = 0;
    const char *sel[2] = {"SELECT", "1"}, *get[2] = {"GET", "k"}, *mine[2] = {"GET", "mine"};
    sentinel_proxy_t *p = fake_proxy(1024, &mfd);
    fm_conn *db1, *db0, *db0b;
    char expect[NGET * 9 + 8];

    (void)state;
    len = fmt_cmd(pipe_buf, sizeof(pipe_buf), 2, sel);
    for (int i = 0; i < NGET; i++)
        len += fmt_cmd(pipe_buf + len, sizeof(pipe_buf) - len, 2, get);
    assert_true(len <= 1024);
    for (int i = 0; i < NX; i++)
        x[i] = client(p);
    z = client(p);
    /* z's GET waits on the shared connection for db 0. */
    send_all(p, z, "*2\r\n$3\r\nGET\r\n$1\r\nz\r\n", 20);
    db0 = fm_accept(p, mfd, 200);
    assert_non_null(db0);
    for (int i = 0; i < 50; i++) {
        fm_step(db0, ans_hold_get, NULL);
        pump(p, 1);
    }
    /* NX clients: SELECT 1, then a pipeline of GETs that waits for its
     * answer. */
    for (int i = 0; i < NX; i++)
        send_all(p, x[i], pipe_buf, len);
    db1 = fm_accept(p, mfd, 200);
    assert_non_null(db1);
    for (int i = 0, budget = 1; i < 100; i++) {
        fm_step(db1, ans_first_selects, &budget); /* the proxy's own SELECT 1 */
        pump(p, 1);
    }
    /* A failover starts: nothing is written to the master; the answers to
     * the SELECTs still come, and every waiting pipeline is queued at once
     * (more than the output holds). */
    set_state(p, PX_MASTER_PAUSED, "test: failover started");
    for (int i = 0; i < 200; i++) {
        fm_step_how(db1, ans_hold_get, NULL, 1);
        pump(p, 1);
    }
    /* db 0's connection closes with z's reply owed. */
    fm_close(db0);
    pump(p, 20);
    set_state(p, PX_MASTER_UP, "test: failover aborted");
    pump(p, 20);
    /* A new client's own reply, and only that. */
    w = client(p);
    len = fmt_cmd(pipe_buf, sizeof(pipe_buf), 2, mine);
    send_all(p, w, pipe_buf, len);
    db0b = fm_accept(p, mfd, 200);
    assert_non_null(db0b);
    for (int i = 0; i < 50; i++) {
        fm_step(db0b, ans_plain, NULL);
        pump(p, 1);
    }
    for (int i = 0; i < 300; i++) {
        fm_step(db1, ans_plain, NULL); /* now the GETs of db 1 */
        pump(p, 1);
    }
    rd_reset(&R);
    read_until(p, w, &R, "never", 50);
    assert_string_equal(R.buf, "$3\r\nval\r\n");
    /* Each X got its +OK and every GET's reply. */
    len = (size_t)snprintf(expect, sizeof(expect), "+OK\r\n");
    for (int i = 0; i < NGET; i++)
        len += (size_t)snprintf(expect + len, sizeof(expect) - len, "$3\r\nval\r\n");
    for (int i = 0; i < NX; i++) {
        rd_reset(&R);
        read_until(p, x[i], &R, "never", 20);
        assert_string_equal(R.buf, expect);
        close(x[i]);
    }
    close(z);
    close(w);
    fm_close(db1);
    fm_close(db0b);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- defect 3: a refused SELECT on reconnect -------------------------------- */

static const char *ans_busy_select(int argc, char **argv, size_t *alen, void *ud, size_t *replen)
{
    if (is_cmd(argv, alen, "SELECT"))
        return "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
               "SHUTDOWN NOSCRIPT.\r\n";
    return ans_plain(argc, argv, alen, ud, replen);
}

/* A new client that moved with cmd (AUTH or SELECT), answered "+OK" by
 * ans on the shared connection *m it opened. */
static int moved_client(sentinel_proxy_t *p, int mfd, const char *cmd, fm_answer *ans,
                        fm_conn **m)
{
    int c = client(p);

    *m = send_opening(p, c, cmd, mfd);
    assert_true(serve_until(p, *m, ans, c, "+OK\r\n"));
    assert_string_equal(R.buf, "+OK\r\n");
    return c;
}

static void test_refused_select_ends_client(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m, *m2;

    (void)state;
    c = moved_client(p, mfd, "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n", ans_plain, &m);
    /* Its shared connection ends (a Redis timeout, CLIENT KILL, a reset). */
    fm_close(m);
    pump(p, 20);
    m2 = send_opening(p, c, "*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n", mfd);
    serve_until(p, m2, ans_busy_select, c, NULL);
    /* The SET never reached a connection that is not in db 3 ... */
    assert_null(strstr(m2->seen, "SET"));
    /* ... and the client was not told it was done: it is ended. */
    assert_null(strstr(R.buf, "+OK"));
    assert_true(R.eof);
    close(c);
    fm_close(m2);
    sentinel_proxy_free(p);
    close(mfd);
}

/* A wrong AUTH still gets Redis' own error and the client stays. */
static void test_wrong_auth_answered(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m, *m0;

    (void)state;
    c = client(p);
    m = send_opening(p, c, "*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n", mfd);
    assert_true(serve_until(p, m, ans_plain, c, "\r\n"));
    assert_non_null(strstr(R.buf, "-ERR AUTH <password> called without"));
    m0 = send_opening(p, c, "*1\r\n$4\r\nPING\r\n", mfd);
    assert_true(serve_until(p, m0, ans_plain, c, "+PONG\r\n"));
    assert_string_equal(R.buf, "+PONG\r\n");
    close(c);
    fm_close(m);
    fm_close(m0);
    sentinel_proxy_free(p);
    close(mfd);
}

/* Its password was rotated while a client was authenticated: the SELECT
 * it sends next needs a connection in (its AUTH, the new db), whose AUTH
 * Redis now refuses. On its own connection Redis would have answered the
 * SELECT "+OK"; the proxy cannot, so it ends the client, never answers
 * the SELECT with the AUTH's -WRONGPASS (diff-fuzz, ACL fault, at
 * 5332496). */
static const char *ans_wrongpass(int argc, char **argv, size_t *alen, void *ud, size_t *replen)
{
    if (is_cmd(argv, alen, "AUTH"))
        return "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    return ans_plain(argc, argv, alen, ud, replen);
}

static void test_select_after_rotated_password(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m, *m2;

    (void)state;
    c = moved_client(p, mfd, "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", ans_auth_ok, &m);
    m2 = send_opening(p, c, "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n", mfd);
    serve_until(p, m2, ans_wrongpass, c, NULL);
    assert_null(strstr(R.buf, "WRONGPASS"));
    assert_true(R.eof);
    close(c);
    fm_close(m);
    fm_close(m2);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- defect 4: clients waiting to be pinned or to QUIT when replies are lost */

static void test_lost_replies_end_client(void **state)
{
    int mfd, mfd2, port2, c, q;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m, *m2;
    rd *rq = calloc(1, sizeof(rd));
    sn_hostport hp2;

    (void)state;
    c = client(p);
    q = client(p);
    /* c: GET, then MULTI/INCR/EXEC (needs a connection of its own once
     * the GET is answered); q: GET, then QUIT. */
    send_str(p, c, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n"
                   "$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n");
    m = send_opening(p, q, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nQUIT\r\n", mfd);
    for (int i = 0; i < 50; i++) {
        fm_step(m, ans_hold_get, NULL);
        pump(p, 1);
    }
    fm_close(m); /* the master connection ends, both GETs unanswered */
    rd_reset(&R);
    assert_true(read_until(p, c, &R, NULL, 200));
    assert_int_equal(R.len, 0);
    assert_true(read_until(p, q, rq, NULL, 200));
    assert_int_equal(rq->len, 0);
    /* A switch afterwards runs nothing of theirs on the new master. */
    mfd2 = master_listen(&port2);
    snprintf(hp2.host, sizeof(hp2.host), "127.0.0.1");
    hp2.port = port2;
    px_master_verified(p, &hp2);
    pump(p, 20);
    m2 = fm_accept(p, mfd2, 20);
    if (m2) {
        for (int i = 0; i < 20; i++) {
            fm_step(m2, ans_plain, NULL);
            pump(p, 1);
        }
        assert_null(strstr(m2->seen, "MULTI"));
        assert_null(strstr(m2->seen, "INCR"));
        fm_close(m2);
    }
    close(c);
    close(q);
    free(rq);
    sentinel_proxy_free(p);
    close(mfd);
    close(mfd2);
}

/* ---- defect 5: a slow reader holds up the others for pause-timeout at most - */

static char big_reply[100 * 1024 + 32];
static size_t big_len;

static const char *ans_big(int argc, char **argv, size_t *alen, void *ud, size_t *replen)
{
    if (is_cmd(argv, alen, "GET") && alen[1] == 3 && memcmp(argv[1], "big", 3) == 0) {
        *replen = big_len;
        return big_reply;
    }
    return ans_plain(argc, argv, alen, ud, replen);
}

static void big_init(void)
{
    big_len = (size_t)snprintf(big_reply, 32, "$%d\r\n", 100 * 1024);
    memset(big_reply + big_len, 'b', 100 * 1024);
    big_len += 100 * 1024;
    memcpy(big_reply + big_len, "\r\n", 2);
    big_len += 2;
}

/* Read the client to its end (it was dropped): 1 when it ended. */
static int reads_to_end(sentinel_proxy_t *p, int fd)
{
    char tmp[4096];

    for (int i = 0; i < 2000; i++) {
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n == 0)
            return 1;
        if (n < 0)
            pump(p, 1);
    }
    return 0;
}

static void test_slow_reader_bounded(void **state)
{
    int mfd, s, v, got = 0, s_ended = 0;
    char pipe_buf[512], tmp[2048];
    size_t len = 0;
    const char *get[2] = {"GET", "big"};
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m;

    (void)state;
    big_init();
    s = client_sndbuf(p, 4096);
    v = client(p);
    for (int i = 0; i < 10; i++)
        len += fmt_cmd(pipe_buf + len, sizeof(pipe_buf) - len, 2, get);
    send_all(p, s, pipe_buf, len); /* 1 MB of replies, read slowly */
    pump(p, 5);
    m = send_opening(p, v, "*1\r\n$4\r\nPING\r\n", mfd);
    rd_reset(&R);
    /* 6 s of the proxy's time, pause-timeout 1 s; the slow client takes
     * 2 KB every 100 ms: it progresses, but would need 50 s. */
    for (int step = 0; step < 60 && !got; step++) {
        ssize_t n;
        p->now += 100;
        n = recv(s, tmp, sizeof(tmp), 0);
        if (n == 0)
            s_ended = 1;
        for (int i = 0; i < 5; i++) {
            fm_step(m, ans_big, NULL);
            pump(p, 1);
        }
        tick(p);
        got = read_until(p, v, &R, "+PONG\r\n", 2);
    }
    assert_true(got);
    if (!s_ended) /* the slow one was dropped: it reads to the end */
        s_ended = reads_to_end(p, s);
    assert_true(s_ended);
    close(s);
    close(v);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* Clients that stop reading together stall their shared connection one
 * after another, with other clients' replies handed over in between (the
 * fuzzer's seeds 1 and 31 at 5332496): the one queued last waited
 * pause-timeout per non-reader (the stall clock restarted after each drop).
 * Now it waits pause-timeout plus a grace per non-reader at most. */
static void test_nonreaders_in_a_row_bounded(void **state)
{
    int mfd, nr[3], ok[3];
    char pipe_buf[512];
    size_t len = 0;
    int got[3] = {0, 0, 0};
    static rd r[3]; /* big */
    const char *get[2] = {"GET", "big"};
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    int64_t t0 = p->now;
    fm_conn *m;

    (void)state;
    big_init();
    for (int i = 0; i < 3; i++)
        len += fmt_cmd(pipe_buf + len, sizeof(pipe_buf) - len, 2, get);
    for (int i = 0; i < 3; i++) {
        nr[i] = client_sndbuf(p, 4096);
        ok[i] = client(p);
        rd_reset(&r[i]);
    }
    /* Queued in this order: non-reader 0's 300 KB of replies, PING of
     * reader 0, non-reader 1's, PING of reader 1, ... PING of reader 2. */
    m = send_opening(p, nr[0], pipe_buf, mfd);
    pump(p, 3);
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            send_all(p, nr[i], pipe_buf, len);
            pump(p, 3);
        }
        send_str(p, ok[i], "*1\r\n$4\r\nPING\r\n");
        pump(p, 3);
    }
    /* pause-timeout 1 s; 2 s of the proxy's time: the last PING's answer
     * is due after 1 s + 2 graces (100 ms each), where it came after 3 s. */
    for (int step = 0; step < 20 && !got[2]; step++) {
        p->now += 100;
        for (int i = 0; i < 60; i++) { /* 16 KB a round: 1 MB a step */
            fm_step(m, ans_big, NULL);
            pump(p, 1);
        }
        tick(p);
        for (int i = 0; i < 3; i++) {
            if (!got[i])
                got[i] = read_until(p, ok[i], &r[i], "+PONG\r\n", 1);
        }
    }
    assert_true(got[0]);
    assert_true(got[1]);
    assert_true(got[2]);
    assert_true(p->now - t0 <= 2000);
    for (int i = 0; i < 3; i++) {
        assert_true(reads_to_end(p, nr[i])); /* each non-reader was dropped */
        close(nr[i]);
        close(ok[i]);
    }
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- defect 7: -MASTERDOWN after the replies already buffered -------------- */

static char mid_reply[14000 + 32];
static size_t mid_len;

static const char *ans_mid(int argc, char **argv, size_t *alen, void *ud, size_t *replen)
{
    if (is_cmd(argv, alen, "GET")) {
        *replen = mid_len;
        return mid_reply;
    }
    return ans_plain(argc, argv, alen, ud, replen);
}

static void test_masterdown_after_buffered_replies(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m;

    (void)state;
    mid_len = (size_t)snprintf(mid_reply, 32, "$14000\r\n");
    memset(mid_reply + mid_len, 'm', 14000);
    mid_len += 14000;
    memcpy(mid_reply + mid_len, "\r\n", 2);
    mid_len += 2;
    c = client_sndbuf(p, 4096);
    m = send_opening(p, c, "*2\r\n$3\r\nGET\r\n$3\r\nmid\r\n", mfd);
    for (int i = 0; i < 50; i++) {
        fm_step(m, ans_mid, NULL);
        pump(p, 1);
    }
    assert_true(p->ctr.buffer_bytes > 0); /* part of the reply waits in the proxy */
    /* No verified master now; the client's next command needs its own
     * connection: it waits for one, and none comes within pause-timeout. */
    set_state(p, PX_MASTER_SUSPECT, "test");
    send_str(p, c, "*1\r\n$5\r\nMULTI\r\n");
    pump(p, 10);
    p->now += p->pause_ms + 1;
    tick(p);
    rd_reset(&R);
    assert_true(read_until(p, c, &R, NULL, 500));
    assert_true(R.len > mid_len);
    assert_memory_equal(R.buf, mid_reply, mid_len);
    assert_int_equal(strncmp(R.buf + mid_len, "-MASTERDOWN ", 12), 0);
    assert_int_equal(memcmp(R.buf + R.len - 2, "\r\n", 2), 0);
    close(c);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- defect 8: buffers that held an AUTH are wiped --------------------------- */

static void test_auth_bytes_wiped(void **state)
{
    int mfd, c, d, before;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m;

    (void)state;
    c = client(p);
    m = send_opening(p, c, "*2\r\n$4\r\nAUTH\r\n$11\r\n" SECRET "\r\n", mfd);
    for (int i = 0; i < 50; i++) {
        fm_step(m, ans_auth_ok, NULL); /* "+OK" to the AUTHs */
        pump(p, 1);
    }
    /* A client's incomplete AUTH waits in its buffer; it goes away. */
    d = client(p);
    send_str(p, d, "*2\r\n$4\r\nAUTH\r\n$11\r\ns3cr3t-p");
    pump(p, 5);
    before = secret_wipes;
    close(d);
    pump(p, 5);
    assert_true(secret_wipes > before);
    /* The shared connection for that AUTH: its copy and its output. */
    close(c);
    pump(p, 5);
    while (p->conns.head)
        px_conn_drop(p, p->conns.head, PX_DROP_NORMAL);
    before = secret_wipes;
    px_mux_reap(p, 1);
    assert_true(secret_wipes >= before + 2);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- SELECT first: still multiplexed (issue 13) ------------------------------ */

/* Answers as ans_plain, but a GET with the key it was asked for, so that
 * each client can tell its own reply from another's. */
static const char *ans_echo_get(int argc, char **argv, size_t *alen, void *ud, size_t *replen)
{
    static char rep[64];

    if (argc == 2 && is_cmd(argv, alen, "GET") && alen[1] < 32) {
        *replen = (size_t)snprintf(rep, sizeof(rep), "$%zu\r\n%.*s\r\n", alen[1], (int)alen[1],
                                   argv[1]);
        return rep;
    }
    return ans_plain(argc, argv, alen, ud, replen);
}

/* Clients whose first command is SELECT 3 (one alone, one with a GET
 * pipelined behind it) move to one shared connection in db 3: the proxy
 * opens it once, with its own SELECT 3 first, and pins nobody; each gets
 * its own replies. A client that never SELECTed stays in db 0, on another
 * connection, and none of its commands reach the db 3 one. */
static void test_select_first_multiplexed(void **state)
{
    int mfd, a, b, z;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m3, *m0;
    uint64_t connects;

    (void)state;
    a = moved_client(p, mfd, "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n", ans_echo_get, &m3);
    /* The connection was opened for db 3: our SELECT 3, then a's. */
    assert_string_equal(m3->seen, "SELECT SELECT ");
    connects = p->ctr.shared_connects;
    b = client(p);
    send_str(p, b, "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$3\r\nGET\r\n$2\r\nkb\r\n");
    assert_true(serve_until(p, m3, ans_echo_get, b, "$2\r\nkb\r\n"));
    assert_string_equal(R.buf, "+OK\r\n$2\r\nkb\r\n");
    /* b joined a's connection: no other was opened. */
    assert_true(p->ctr.shared_connects == connects);
    assert_null(fm_accept(p, mfd, 5));
    send_str(p, a, "*2\r\n$3\r\nGET\r\n$2\r\nka\r\n");
    assert_true(serve_until(p, m3, ans_echo_get, a, "$2\r\nka\r\n"));
    assert_string_equal(R.buf, "$2\r\nka\r\n");
    assert_string_equal(m3->seen, "SELECT SELECT SELECT GET GET ");
    /* Both are multiplexed, neither pinned, and on one connection in db 3. */
    assert_true(p->ctr.pinned == 0);
    for (px_conn *c = p->conns.head; c; c = c->next) {
        assert_int_equal(c->mux, PX_MUX_PARSING);
        assert_non_null(c->sh);
        assert_int_equal(c->sh->db, 3);
        assert_ptr_equal(c->sh, p->conns.head->sh);
    }
    /* A client in db 0 gets a connection of its own state. */
    z = client(p);
    m0 = send_opening(p, z, "*2\r\n$3\r\nGET\r\n$2\r\nkz\r\n", mfd);
    assert_true(serve_until(p, m0, ans_echo_get, z, "$2\r\nkz\r\n"));
    assert_string_equal(R.buf, "$2\r\nkz\r\n");
    assert_string_equal(m0->seen, "GET ");
    fm_step(m3, ans_echo_get, NULL);
    assert_string_equal(m3->seen, "SELECT SELECT SELECT GET GET ");
    close(a);
    close(b);
    close(z);
    fm_close(m3);
    fm_close(m0);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- the follower's pause holds every write (issue 13) ---------------------- */

/* A failover starts (the follower PAUSED): the proxy writes nothing more to
 * the master, a client's next command waits in the proxy; the follower
 * verifies the same master again (an aborted failover): the command goes
 * and its reply comes. Driven through the follower's state callback, as
 * sentinel-proxy's loop does. */
static void test_follower_pause_holds_writes(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m;
    sentinel_follow_transition t;

    (void)state;
    c = client(p);
    m = send_opening(p, c, "*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n", mfd);
    assert_true(serve_until(p, m, ans_echo_get, c, "$2\r\nk1\r\n"));
    memset(&t, 0, sizeof(t));
    t.old_state = SENTINEL_FOLLOW_FOLLOWING;
    t.new_state = SENTINEL_FOLLOW_PAUSED;
    t.epoch = 1;
    t.reason = "test: +try-failover";
    on_follow_state(NULL, &t, p);
    assert_int_equal(p->state, PX_MASTER_PAUSED);
    send_str(p, c, "*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n");
    assert_false(serve_until(p, m, ans_echo_get, c, "$2\r\nk2\r\n"));
    assert_string_equal(m->seen, "GET ");
    assert_int_equal(R.len, 0);
    t.old_state = SENTINEL_FOLLOW_PAUSED;
    t.new_state = SENTINEL_FOLLOW_FOLLOWING;
    t.reason = "test: failover aborted, master verified";
    snprintf(t.master.host, sizeof(t.master.host), "%s", p->master.host);
    t.master.port = p->master.port;
    on_follow_state(NULL, &t, p);
    assert_int_equal(p->state, PX_MASTER_UP);
    assert_true(serve_until(p, m, ans_echo_get, c, "$2\r\nk2\r\n"));
    assert_string_equal(R.buf, "$2\r\nk2\r\n");
    assert_string_equal(m->seen, "GET GET ");
    close(c);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- fuzzer, seed 5: a full shared connection flushed inside a client's read */

/* The client's read fills its shared connection (SH_OUT_BUFS buffers
 * queued in one loop turn), so the read flushes it, and that send fails
 * (the connection was just killed: here its write side is shut): the
 * failure closes the connection and ends its clients, the one being read
 * among them. It must stay valid until its read is done (heap-use-after-
 * free in shared_after_parse under ASan before the fix), then end: no
 * reply, the socket closed, nothing left behind. Reads are called
 * directly, as one loop turn would, so no flush or master event comes
 * between them. */
static void test_flush_in_read_keeps_client(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(4096, &mfd);
    fm_conn *m;
    px_conn *pc;
    px_shup *sh;
    char *pipe = malloc(64 * 1024);
    size_t plen = 0;
    int reads = 0;

    (void)state;
    assert_non_null(pipe);
    c = client(p);
    m = send_opening(p, c, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", mfd);
    assert_true(serve_until(p, m, ans_plain, c, "$3\r\nval\r\n"));
    pc = p->conns.head;
    assert_non_null(pc);
    assert_int_equal(p->conns.count, 1);
    sh = pc->sh;
    assert_non_null(sh);
    assert_int_equal(sh->state, PX_SH_OPEN);
    /* More than SH_OUT_BUFS buffers of GETs, waiting in the client's socket. */
    while (plen + 32 < 64 * 1024 && plen < (SH_OUT_BUFS + 2) * p->bufsize)
        plen += (size_t)snprintf(pipe + plen, 32, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    assert_int_equal(send(c, pipe, plen, MSG_NOSIGNAL), (ssize_t)plen);
    assert_int_equal(shutdown(sh->fd, SHUT_WR), 0); /* its next send fails: EPIPE */
    while (p->conns.count == 1 && reads < 2 * SH_OUT_BUFS + 4) {
        px_mux_client_read(p, pc);
        reads++;
    }
    assert_int_equal(p->conns.count, 0); /* the client ended with its read */
    assert_int_equal(sh->state, PX_SH_IDLE);
    assert_int_equal(sh->users, 0);
    assert_int_equal(sh->q_len, 0);
    rd_reset(&R);
    assert_true(read_until(p, c, &R, NULL, 20));
    assert_int_equal(R.len, 0); /* no reply: every one was lost */
    free(pipe);
    close(c);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- connect-timeout: counted from the connect, never before it is seen ---- */

/* The clock (sn_now_ms) of these tests: p->now is set apart from it, as the
 * loop stamps p->now once per turn, after its wait and dispatch. */
static int64_t t_now;
static int64_t t_clock(void)
{
    return t_now;
}

/* A client's MULTI pins it: its own master connection starts inside this
 * turn's dispatch. stale_ms: how long before that p->now was taken (the
 * wait before the turn). Returns the client's px_conn, CONNECTING. */
static px_conn *pin_connecting(sentinel_proxy_t *p, int c, int64_t stale_ms)
{
    px_conn *pc;

    t_now = p->now + stale_ms;
    sn_clock_set(t_clock);
    send_str(p, c, "*1\r\n$5\r\nMULTI\r\n");
    pump(p, 1);
    pc = p->conns.head;
    assert_non_null(pc);
    assert_int_equal(pc->state, PX_CONN_CONNECTING);
    return pc;
}

/* The turn that started the connect began after a wait longer than
 * connect-timeout: the deadline counts from the connect, not from p->now
 * (taken before that wait), so the tick at the end of that turn does not
 * time it out; it connects and the client's MULTI is answered. On main's
 * code the client got "-ERR ... connect timed out". */
static void test_connect_deadline_from_connect(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m;

    (void)state;
    c = client(p);
    pin_connecting(p, c, p->connect_ms + 500);
    p->now = t_now; /* the end of the turn (px_loop_turn), then its tick */
    tick(p);
    assert_int_equal(p->conns.count, 1);
    m = fm_accept(p, mfd, 200);
    assert_non_null(m);
    assert_true(serve_until(p, m, ans_plain, c, "+OK\r\n"));
    assert_null(strstr(R.buf, "timed out"));
    assert_string_equal(m->seen, "MULTI ");
    sn_clock_set(NULL);
    close(c);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* The connect is done at the socket, but the rest of the turn took longer
 * than connect-timeout (a loaded machine), so the loop has not looked at
 * it yet: not timed out; the next turn sees it connected. On main's code
 * the client got "-ERR ... connect timed out". */
static void test_connect_not_timed_out_unseen(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m;
    px_conn *pc;
    struct pollfd pfd;

    (void)state;
    c = client(p);
    pc = pin_connecting(p, c, 0);
    pfd.fd = pc->ufd;
    pfd.events = POLLOUT;
    assert_int_equal(poll(&pfd, 1, 2000), 1); /* the loopback connect is done */
    t_now += p->connect_ms + 500;
    p->now = t_now;
    tick(p);
    assert_int_equal(p->conns.count, 1);
    assert_int_equal(pc->state, PX_CONN_CONNECTING);
    m = fm_accept(p, mfd, 200);
    assert_non_null(m);
    assert_true(serve_until(p, m, ans_plain, c, "+OK\r\n"));
    assert_null(strstr(R.buf, "timed out"));
    sn_clock_set(NULL);
    close(c);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* A connect that is not done (the master's accept queue is full: its SYN
 * is dropped) still times out after connect-timeout: the client gets the
 * error and goes. */
static void test_connect_still_times_out(void **state)
{
    int mfd, c, lfd, fill[3];
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    sn_hostport hp;
    px_conn *pc;

    (void)state;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    for (int i = 0; i < 3; i++) { /* never accepted: the queue is full */
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        (void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    snprintf(hp.host, sizeof(hp.host), "127.0.0.1");
    hp.port = ntohs(sa.sin_port);
    px_master_verified(p, &hp);
    c = client(p);
    pc = pin_connecting(p, c, 0);
    t_now += p->connect_ms - 1;
    p->now = t_now;
    tick(p);
    assert_int_equal(p->conns.count, 1); /* not yet */
    assert_int_equal(pc->state, PX_CONN_CONNECTING);
    t_now += 1;
    p->now = t_now;
    tick(p);
    assert_int_equal(p->conns.count, 0);
    rd_reset(&R);
    assert_true(read_until(p, c, &R, NULL, 20));
    assert_non_null(strstr(R.buf, "connect timed out"));
    sn_clock_set(NULL);
    for (int i = 0; i < 3; i++)
        close(fill[i]);
    close(lfd);
    close(c);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- a client's end while commands of its own are still unparsed ----------- */
/* (review2 could not confirm that px_mux_after() always ends such a client.) */

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

/* GET (held by the master) SELECT 1 GET SET, then the client's end: the
 * SELECT and what follows wait unparsed in its buffer behind the GET. */
static fm_conn *eof_behind_wait(sentinel_proxy_t *p, int c, int mfd, int how)
{
    fm_conn *m = send_opening(p, c,
                              "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n"
                              "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n",
                              mfd);
    for (int i = 0; i < 20; i++) {
        fm_step(m, ans_hold_get, NULL);
        pump(p, 1);
    }
    assert_int_equal(p->conns.count, 1);
    assert_int_equal(p->conns.head->mux, PX_MUX_WAITING);
    assert_non_null(p->conns.head->c2u); /* SELECT 1, GET, SET: not parsed yet */
    if (how == SHUT_WR)
        assert_int_equal(shutdown(c, SHUT_WR), 0);
    else
        close(c);
    pump(p, 5);
    return m;
}

/* Serve both masters until the client is gone (or rounds ran out). */
static void serve_two_until_gone(sentinel_proxy_t *p, fm_conn *m, int mfd, fm_conn **m2, int c)
{
    rd_reset(&R);
    for (int i = 0; i < 400 && (p->conns.count > 0 || (c >= 0 && !R.eof)); i++) {
        fm_step(m, ans_plain, NULL);
        if (*m2 == NULL)
            *m2 = fm_accept(p, mfd, 1);
        if (*m2)
            fm_step(*m2, ans_plain, NULL);
        if (c >= 0)
            read_until(p, c, &R, NULL, 1);
        else
            pump(p, 1);
    }
}

/* The client is gone and freed; then the case's teardown. */
static void end_gone(sentinel_proxy_t *p, int mfd, fm_conn *m, fm_conn *m2)
{
    assert_int_equal(p->conns.count, 0);
    assert_int_equal(p->ctr.buffer_bytes, 0);
    fm_close(m2);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* Half-closed: every command it sent runs, every reply is delivered in
 * order, then the proxy closes it and frees it. */
static void test_eof_with_unparsed_commands_answered(void **state)
{
    int mfd, c, fds0;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m, *m2 = NULL;

    (void)state;
    fds0 = open_fds();
    c = client(p);
    m = eof_behind_wait(p, c, mfd, SHUT_WR);
    serve_two_until_gone(p, m, mfd, &m2, c);
    assert_true(R.eof);
    assert_string_equal(R.buf, "$3\r\nval\r\n+OK\r\n$3\r\nval\r\n+OK\r\n");
    assert_non_null(m2);
    assert_non_null(strstr(m2->seen, "SET")); /* the SET ran, in db 1 */
    close(c);
    /* the proxy's end of the client is closed: left are its two shared
     * connections (db 0, db 1), kept for the next clients, and the
     * master's ends of them */
    assert_int_equal(open_fds(), fds0 + 4);
    end_gone(p, mfd, m, m2);
}

/* Closed outright: what it sent still runs (as Redis runs a closed
 * client's last commands), its replies are dropped, and it is freed. */
static void test_close_with_unparsed_commands_freed(void **state)
{
    int mfd, c;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m, *m2 = NULL;

    (void)state;
    c = client(p);
    m = eof_behind_wait(p, c, mfd, SHUT_RDWR);
    serve_two_until_gone(p, m, mfd, &m2, -1);
    end_gone(p, mfd, m, m2);
}

/* The client's end arrives while its shared connection is full (its
 * clients are not read): once the master drains it, the commands queued
 * in the socket before the end run, every reply comes, then the close. */
static void test_eof_while_shared_full(void **state)
{
    static const char ping[] = "*1\r\n$4\r\nPING\r\n";
    int mfd, c, small = 4096, sent = 0, replies = 0, extra = 0;
    sentinel_proxy_t *p = fake_proxy(4096, &mfd);
    fm_conn *m;
    px_shup *sh;

    (void)state;
    /* small kernel buffers on both ends of the shared connection */
    assert_int_equal(setsockopt(mfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    c = client(p);
    m = send_opening(p, c, ping, mfd);
    sent = 1;
    assert_true(serve_until(p, m, ans_plain, c, "+PONG\r\n"));
    sh = p->conns.head->sh;
    assert_non_null(sh);
    assert_int_equal(setsockopt(sh->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    /* The master stops reading; the client pipelines until the proxy
     * stops reading it. */
    for (int round = 0; round < 4000 && !sh->full; round++) {
        for (int i = 0; i < 64; i++) {
            if (send(c, ping, sizeof(ping) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(ping) - 1))
                break;
            sent++;
        }
        pump(p, 1);
    }
    assert_true(sh->full);
    for (int i = 0; i < 8; i++) /* unread, in the socket, before the end */
        if (send(c, ping, sizeof(ping) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(ping) - 1))
            extra++;
    sent += extra;
    assert_int_equal(shutdown(c, SHUT_WR), 0);
    pump(p, 5);
    assert_int_equal(p->conns.count, 1);
    assert_false(p->conns.head->flags & PX_CL_EOF); /* not read while full */
    /* The master reads again. */
    static rd r; /* big */
    rd_reset(&r);
    for (int i = 0; i < 20000 && !r.eof; i++) {
        fm_step(m, ans_plain, NULL);
        read_until(p, c, &r, NULL, 1);
    }
    assert_true(r.eof);
    for (const char *s = r.buf; (s = strstr(s, "+PONG\r\n")) != NULL; s += 7)
        replies++;
    assert_int_equal(replies, sent - 1); /* the first was read by serve_until */
    assert_int_equal((size_t)replies * 7, r.len);
    close(c);
    end_gone(p, mfd, m, NULL);
}

/* ---- TLS close_notify: on orderly closes only ------------------------------ */

/* A client ended because a reply it was owed is lost (its shared master
 * connection closed) is closed without close_notify: over TLS that would
 * tell it its replies are complete, where it should see the stream cut.
 * One that ends itself after its replies gets it. On main's code both got
 * it. */
static void test_close_notify_only_when_orderly(void **state)
{
    int mfd, done, lost, done_fd, lost_fd;
    sentinel_proxy_t *p = fake_proxy(16384, &mfd);
    fm_conn *m;

    (void)state;
    nnotified = 0;
    done = client(p);
    done_fd = p->conns.head->cfd;
    m = send_opening(p, done, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", mfd);
    assert_true(serve_until(p, m, ans_plain, done, "$3\r\nval\r\n"));
    assert_int_equal(shutdown(done, SHUT_WR), 0);
    assert_true(read_until(p, done, &R, NULL, 50));
    assert_int_equal(p->conns.count, 0);
    assert_true(was_notified(done_fd));

    nnotified = 0;
    lost = client(p);
    lost_fd = p->conns.head->cfd;
    send_str(p, lost, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    for (int i = 0; i < 20; i++) {
        fm_step(m, ans_hold_get, NULL); /* held */
        pump(p, 1);
    }
    assert_int_equal(p->conns.count, 1);
    fm_close(m); /* the shared connection ends with the GET unanswered */
    rd_reset(&R);
    assert_true(read_until(p, lost, &R, NULL, 200));
    assert_int_equal(R.len, 0);
    assert_int_equal(p->conns.count, 0);
    assert_false(was_notified(lost_fd));
    close(done);
    close(lost);
    sentinel_proxy_free(p);
    close(mfd);
}

/* ---- a pinned client's replies before its master's reset ------------------- */

/* A client with a connection of its own sent GET and QUIT; the master
 * answered both and reset the connection (Redis closes after QUIT; bytes
 * the client sent behind it make that close a reset). The client's next
 * bytes cannot be written to the master: the two replies it is owed must
 * still reach it, then the close, as they would from Redis. Found by
 * diff-fuzz (seed 3004692177, 200 clients): on main's code the client was
 * dropped at the failed write with its replies unread. */
static void test_replies_before_master_reset_delivered(void **state)
{
    int mfd, c;
    struct linger lg = {1, 0};
    sentinel_proxy_t *p = fake_proxy(4096, &mfd);
    fm_conn *m;
    px_conn *pc;

    (void)state;
    c = client(p);
    m = send_opening(p, c, "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$1\r\na\r\n", mfd);
    assert_true(serve_until(p, m, ans_plain, c, "+OK\r\n")); /* pinned: its own connection */
    pc = p->conns.head;
    assert_int_equal(pc->state, PX_CONN_OPEN);
    send_str(p, c, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nQUIT\r\n");
    for (int i = 0; i < 50 && m->ncmd < 3; i++) {
        pump(p, 1);
        fm_step(m, ans_plain, NULL); /* "$3 val", "+OK" */
    }
    assert_int_equal(m->ncmd, 3);
    assert_int_equal(setsockopt(m->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(m->fd); /* the reset, after its replies */
    m->fd = -1;
    /* The client's next bytes come first in the turn that sees them. */
    assert_int_equal(send(c, "*1\r\n$4\r\nPING\r\n", 14, MSG_NOSIGNAL), 14);
    usleep(20000);
    on_client(p->loop, pc->cfd, pc, PX_READABLE);
    rd_reset(&R);
    assert_true(read_until(p, c, &R, NULL, 100));
    assert_string_equal(R.buf, "$3\r\nval\r\n+OK\r\n");
    assert_int_equal(p->conns.count, 0);
    close(c);
    fm_close(m);
    sentinel_proxy_free(p);
    close(mfd);
}

/* argv[1]: run only the tests whose names match this pattern. */
int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_stats_size),
        cmocka_unit_test(test_admin_idle_connections),
        cmocka_unit_test(test_admin_accept_emfile),
        cmocka_unit_test(test_preamble_fits),
        cmocka_unit_test(test_no_reply_to_freed_client),
        cmocka_unit_test(test_refused_select_ends_client),
        cmocka_unit_test(test_wrong_auth_answered),
        cmocka_unit_test(test_select_after_rotated_password),
        cmocka_unit_test(test_lost_replies_end_client),
        cmocka_unit_test(test_slow_reader_bounded),
        cmocka_unit_test(test_nonreaders_in_a_row_bounded),
        cmocka_unit_test(test_masterdown_after_buffered_replies),
        cmocka_unit_test(test_auth_bytes_wiped),
        cmocka_unit_test(test_select_first_multiplexed),
        cmocka_unit_test(test_follower_pause_holds_writes),
        cmocka_unit_test(test_flush_in_read_keeps_client),
        cmocka_unit_test(test_connect_deadline_from_connect),
        cmocka_unit_test(test_connect_not_timed_out_unseen),
        cmocka_unit_test(test_connect_still_times_out),
        cmocka_unit_test(test_eof_with_unparsed_commands_answered),
        cmocka_unit_test(test_close_with_unparsed_commands_freed),
        cmocka_unit_test(test_eof_while_shared_full),
        cmocka_unit_test(test_close_notify_only_when_orderly),
        cmocka_unit_test(test_replies_before_master_reset_delivered),
    };

    signal(SIGPIPE, SIG_IGN);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
