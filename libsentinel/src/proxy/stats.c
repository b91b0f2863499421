/*
 * Proxy stats: Prometheus text over HTTP on a separate (loopback by
 * default) admin port, which is what Kubernetes/OpenShift scrapers and
 * probes expect, plus one INFO-like log line on request (SIGUSR1).
 *
 *   GET /metrics  Prometheus text exposition format 0.0.4; a process that
 *                 serves several masters labels every figure master="NAME"
 *   GET /ready    200 while forwarding to a verified master (each master,
 *                 with several), else 503
 *   GET /ready/NAME  with several masters: 200 while master NAME's route
 *                 is, else 503; 404 for a name no route serves (a probe of
 *                 one master that another master's failover leaves alone)
 *   GET /live     200 while the loop runs
 *
 * The admin server is deliberately minimal: one request per connection, a
 * few concurrent connections, a short deadline. No secrets are exposed.
 * Idle connections cannot starve a probe: a connection that has sent
 * nothing for ADMIN_IDLE_MS is closed, and when every slot is taken a new
 * connection takes the slot of the oldest one still waiting for its
 * request. When accept fails for lack of fds or memory, accepting pauses
 * until the next tick instead of spinning on the level-triggered listener.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy_int.h"

#define ADMIN_MAX_CONNS 8
#define ADMIN_REQ_MAX 2048
#define ADMIN_DEADLINE_MS 2000
#define ADMIN_IDLE_MS 500 /* no byte of a request yet: closed */
#define ADMIN_BODY_MAX 65536 /* 17 masters' figures */

/* ------------------------------------------------------------------------
 * Rendering
 * ------------------------------------------------------------------------ */

typedef struct outbuf {
    char *buf;
    size_t cap, len;
} outbuf;

static void out(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out(outbuf *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->len >= o->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n >= o->cap ? o->cap - 1 : o->len + (size_t)n;
}

/* A label value as the exposition format wants it: \\, \" and \n escaped. */
static void label(char *dst, size_t cap, const char *v)
{
    size_t n = 0;

    for (; *v && n + 3 < cap; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            dst[n++] = '\\';
            dst[n++] = *v == '\n' ? 'n' : *v;
        } else {
            dst[n++] = *v;
        }
    }
    dst[n] = '\0';
}

/* {master="NAME"} for a process serving several masters (s->master set),
 * nothing for the one master of a classic proxy (series unchanged). */
static void master_label(char *dst, size_t cap, const px_snapshot *s, int first)
{
    char m[520];

    if (s->master == NULL) {
        dst[0] = '\0';
        return;
    }
    label(m, sizeof(m), s->master);
    snprintf(dst, cap, "%smaster=\"%s\"", first ? "" : ",", m);
}

/* One figure of every master: HELP and TYPE once, a line per master. */
typedef unsigned long long figure_fn(const px_snapshot *s);

static void metric(outbuf *o, const px_snapshot *s, int n, const char *name, const char *type,
                   const char *help, figure_fn *fig)
{
    out(o, "# HELP sentinel_proxy_%s %s\n# TYPE sentinel_proxy_%s %s\n", name, help, name, type);
    for (int i = 0; i < n; i++) {
        char m[540];
        master_label(m, sizeof(m), &s[i], 1);
        out(o, "sentinel_proxy_%s%s%s%s %llu\n", name, m[0] ? "{" : "", m, m[0] ? "}" : "",
            fig(&s[i]));
    }
}

#define FIGURE(fn, expr)                                                                          \
    static unsigned long long fn(const px_snapshot *s)                                            \
    {                                                                                             \
        return (unsigned long long)(expr);                                                        \
    }
FIGURE(f_conns, s->st.connections_current)
FIGURE(f_held, s->st.connections_held)
FIGURE(f_total, s->st.connections_total)
FIGURE(f_refused, s->st.connections_refused)
FIGURE(f_bytes_in, s->st.bytes_from_clients)
FIGURE(f_bytes_out, s->st.bytes_to_clients)
FIGURE(f_switches, s->st.switches)
FIGURE(f_fo_started, s->st.failovers_started)
FIGURE(f_fo_aborted, s->st.failovers_aborted)
FIGURE(f_dropped, s->st.clients_dropped_on_switch)
FIGURE(f_upstream_errors, s->ctr.upstream_errors)
FIGURE(f_multiplexed, s->ctr.multiplexed)
FIGURE(f_pinned, s->ctr.pinned)
FIGURE(f_shared_connects, s->ctr.shared_connects)
FIGURE(f_subscribe_denied, s->ctr.subscribe_denied)
FIGURE(f_links_up, s->links_up)
FIGURE(f_buffer_bytes, s->st.buffer_bytes)
FIGURE(f_master_up, s->st.master_up)
FIGURE(f_paused, s->st.paused)

size_t px_stats_render(const px_snapshot *s, int n, char *buf, size_t cap)
{
    outbuf o = {buf, cap, 0};

    if (cap == 0)
        return 0;
    buf[0] = '\0';
    metric(&o, s, n, "connections", "gauge", "Client connections open now.", f_conns);
    metric(&o, s, n, "connections_held", "gauge", "Clients waiting for a verified master.",
           f_held);
    metric(&o, s, n, "connections_total", "counter", "Client connections accepted.", f_total);
    metric(&o, s, n, "connections_refused_total", "counter",
           "Clients refused (max-clients, or no verified master within pause-timeout).",
           f_refused);
    metric(&o, s, n, "client_bytes_received_total", "counter", "Bytes read from clients.",
           f_bytes_in);
    metric(&o, s, n, "client_bytes_sent_total", "counter", "Bytes written to clients.",
           f_bytes_out);
    metric(&o, s, n, "master_switches_total", "counter", "Verified master changes.", f_switches);
    metric(&o, s, n, "failovers_started_total", "counter", "Failovers announced by sentinels.",
           f_fo_started);
    metric(&o, s, n, "failovers_aborted_total", "counter", "Failovers that were aborted.",
           f_fo_aborted);
    metric(&o, s, n, "clients_dropped_on_switch_total", "counter",
           "Clients disconnected because they were attached to the old master.", f_dropped);
    metric(&o, s, n, "upstream_errors_total", "counter", "Failed or reset master connections.",
           f_upstream_errors);
    metric(&o, s, n, "multiplexed_commands_total", "counter",
           "Commands sent over the shared master connection.", f_multiplexed);
    metric(&o, s, n, "pinned_clients_total", "counter",
           "Multiplexed clients moved to a master connection of their own.", f_pinned);
    metric(&o, s, n, "shared_connects_total", "counter",
           "Shared master connections opened (one per AUTH and database in use).",
           f_shared_connects);
    metric(&o, s, n, "subscribe_denied_total", "counter", "Sentinels that refused SUBSCRIBE.",
           f_subscribe_denied);
    metric(&o, s, n, "sentinel_links_up", "gauge",
           "Sentinels the proxy is subscribed to (shared by every master of the process).",
           f_links_up);
    metric(&o, s, n, "buffer_bytes", "gauge", "Memory in per-connection buffers.",
           f_buffer_bytes);
    metric(&o, s, n, "master_up", "gauge", "1 while forwarding to a verified master.",
           f_master_up);
    metric(&o, s, n, "paused", "gauge", "1 while client traffic is held for a failover.",
           f_paused);
    out(&o, "# HELP sentinel_proxy_seconds_without_master_total Time spent without a verified "
            "master.\n# TYPE sentinel_proxy_seconds_without_master_total counter\n");
    for (int i = 0; i < n; i++) {
        char m[540];
        master_label(m, sizeof(m), &s[i], 1);
        out(&o, "sentinel_proxy_seconds_without_master_total%s%s%s %.3f\n", m[0] ? "{" : "", m,
            m[0] ? "}" : "", (double)s[i].st.ms_without_master / 1000.0);
    }
    out(&o, "# HELP sentinel_proxy_master The current master (labels), 1 when verified.\n"
            "# TYPE sentinel_proxy_master gauge\n");
    for (int i = 0; i < n; i++) {
        char m[540];
        master_label(m, sizeof(m), &s[i], 0);
        out(&o, "sentinel_proxy_master{host=\"%s\",port=\"%d\",state=\"%s\"%s} %d\n",
            s[i].st.master_host, s[i].st.master_port, s[i].state, m, s[i].st.master_up);
    }
    out(&o,
        "# HELP sentinel_proxy_build_info Version.\n# TYPE sentinel_proxy_build_info gauge\n"
        "sentinel_proxy_build_info{version=\"%s\"} 1\n",
        SENTINEL_VERSION_STRING);
    return o.len;
}

void px_stats_line(const px_snapshot *s, char *buf, size_t cap)
{
    const sentinel_proxy_stats *st = &s->st;

    snprintf(buf, cap,
             "stats: master=%s:%d state=%s connections=%llu held=%llu total=%llu refused=%llu "
             "bytes_in=%llu bytes_out=%llu switches=%llu failovers=%llu dropped_on_switch=%llu "
             "buffer_bytes=%llu seconds_without_master=%.3f sentinel_links_up=%d%s%s",
             st->master_host[0] ? st->master_host : "-", st->master_port, s->state,
             (unsigned long long)st->connections_current, (unsigned long long)st->connections_held,
             (unsigned long long)st->connections_total,
             (unsigned long long)st->connections_refused,
             (unsigned long long)st->bytes_from_clients, (unsigned long long)st->bytes_to_clients,
             (unsigned long long)st->switches, (unsigned long long)st->failovers_started,
             (unsigned long long)st->clients_dropped_on_switch,
             (unsigned long long)st->buffer_bytes, (double)st->ms_without_master / 1000.0,
             s->links_up, s->master ? " name=" : "", s->master ? s->master : "");
}

/* ------------------------------------------------------------------------
 * The admin endpoint
 * ------------------------------------------------------------------------ */

typedef struct admin_conn {
    int fd;
    int64_t since, deadline;
    size_t inlen;
    char in[ADMIN_REQ_MAX];
    char *resp;
    size_t resplen, respos;
} admin_conn;

struct px_admin {
    px_snapshot_fn *snap;
    void *snap_ud;
    px_loop *loop;
    int fd, port;
    int accept_paused; /* accept failed for lack of resources: until the next tick */
    admin_conn conns[ADMIN_MAX_CONNS];
};

static void admin_close(px_admin *a, admin_conn *c)
{
    px_loop_del(a->loop, c->fd, PX_READABLE | PX_WRITABLE);
    close(c->fd);
    free(c->resp);
    c->resp = NULL;
    c->fd = -1;
}

static int admin_respond(px_admin *a, admin_conn *c)
{
    char *body = NULL, method[8], path[256]; /* "/ready/" and a master name */
    const char *status = "200 OK", *ctype = "text/plain; version=0.0.4; charset=utf-8";
    size_t blen = 0;
    px_snapshot snap[PX_SNAPSHOTS_MAX];
    int n, up;

    method[0] = path[0] = '\0';
    c->in[c->inlen] = '\0';
    if (sscanf(c->in, "%7s %255s", method, path) != 2) {
        status = "400 Bad Request";
    } else if (strcmp(method, "GET") != 0) {
        status = "405 Method Not Allowed";
    } else if (strcmp(path, "/metrics") == 0) {
        if ((body = malloc(ADMIN_BODY_MAX)) == NULL)
            return -1;
        n = a->snap(a->snap_ud, snap, PX_SNAPSHOTS_MAX);
        blen = px_stats_render(snap, n, body, ADMIN_BODY_MAX);
    } else if (strcmp(path, "/ready") == 0) {
        /* Ready when every master served is. */
        n = a->snap(a->snap_ud, snap, PX_SNAPSHOTS_MAX);
        up = n > 0;
        for (int i = 0; i < n; i++)
            up &= snap[i].st.master_up != 0;
        status = up ? "200 OK" : "503 Service Unavailable";
    } else if (strncmp(path, "/ready/", 7) == 0) {
        /* One master of several: its own readiness. */
        n = a->snap(a->snap_ud, snap, PX_SNAPSHOTS_MAX);
        status = "404 Not Found";
        for (int i = 0; i < n; i++)
            if (snap[i].master && strcmp(snap[i].master, path + 7) == 0)
                status = snap[i].st.master_up ? "200 OK" : "503 Service Unavailable";
    } else if (strcmp(path, "/live") != 0) {
        status = "404 Not Found";
    }
    if ((c->resp = malloc(blen + 256)) == NULL) {
        free(body);
        return -1;
    }
    c->resplen = (size_t)snprintf(c->resp, 256,
                                  "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                                  "Connection: close\r\n\r\n",
                                  status, ctype, blen);
    if (body)
        memcpy(c->resp + c->resplen, body, blen);
    c->resplen += blen;
    c->respos = 0;
    free(body);
    return 0;
}

static void on_admin_conn(px_loop *l, int fd, void *ud, int mask)
{
    px_admin *a = ud;
    admin_conn *c = NULL;

    (void)l;
    for (int i = 0; i < ADMIN_MAX_CONNS; i++)
        if (a->conns[i].fd == fd)
            c = &a->conns[i];
    if (c == NULL)
        return;
    if ((mask & PX_READABLE) && c->resp == NULL) {
        ssize_t n = recv(fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, 0);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR))
                admin_close(a, c);
            return;
        }
        c->inlen += (size_t)n;
        c->in[c->inlen] = '\0';
        if (strstr(c->in, "\r\n\r\n") == NULL && strstr(c->in, "\n\n") == NULL) {
            if (c->inlen >= sizeof(c->in) - 1)
                admin_close(a, c);
            return;
        }
        if (admin_respond(a, c) == -1) {
            admin_close(a, c);
            return;
        }
        px_loop_del(a->loop, fd, PX_READABLE);
        px_loop_add(a->loop, fd, PX_WRITABLE, on_admin_conn, a);
        return;
    }
    if ((mask & PX_WRITABLE) && c->resp) {
        ssize_t n = send(fd, c->resp + c->respos, c->resplen - c->respos, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            admin_close(a, c);
            return;
        }
        c->respos += (size_t)n;
        if (c->respos == c->resplen)
            admin_close(a, c);
    }
}

static void on_admin_accept(px_loop *l, int fd, void *ud, int mask)
{
    px_admin *a = ud;

    (void)l;
    (void)mask;
    for (int round = 0; round < 64; round++) {
        admin_conn *c = NULL, *oldest = NULL;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The connection stays in the backlog; retried next tick. */
                px_loop_del(a->loop, a->fd, PX_READABLE);
                a->accept_paused = 1;
            }
            return;
        }
        for (int i = 0; i < ADMIN_MAX_CONNS && c == NULL; i++) {
            admin_conn *s = &a->conns[i];
            if (s->fd < 0)
                c = s;
            else if (s->resp == NULL && (oldest == NULL || s->since < oldest->since))
                oldest = s;
        }
        if (c == NULL && oldest != NULL) {
            admin_close(a, oldest); /* still no request: the newcomer goes first */
            c = oldest;
        }
        if (c == NULL) {
            close(cfd); /* every slot is sending a response: retry shortly */
            continue;
        }
        c->fd = cfd;
        c->inlen = 0;
        c->resp = NULL;
        c->since = sn_now_ms();
        c->deadline = c->since + ADMIN_DEADLINE_MS;
        if (px_loop_add(a->loop, cfd, PX_READABLE, on_admin_conn, a) == -1)
            admin_close(a, c);
    }
}

px_admin *px_admin_new(px_loop *loop, const char *host, int port, px_snapshot_fn *snap, void *ud,
                       char *err, size_t errlen)
{
    px_admin *a = calloc(1, sizeof(*a));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->snap = snap;
    a->snap_ud = ud;
    a->loop = loop;
    for (int i = 0; i < ADMIN_MAX_CONNS; i++)
        a->conns[i].fd = -1;
    if ((a->fd = px_listen_tcp(host, port, 16, err, errlen)) == -1) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", err);
        snprintf(err, errlen, "admin: %s", msg);
        free(a);
        return NULL;
    }
    if (getsockname(a->fd, (struct sockaddr *)&ss, &sl) == 0)
        a->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    if (px_loop_add(loop, a->fd, PX_READABLE, on_admin_accept, a) == -1) {
        snprintf(err, errlen, "admin: %s", strerror(errno));
        close(a->fd);
        free(a);
        return NULL;
    }
    return a;
}

void px_admin_free(px_admin *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < ADMIN_MAX_CONNS; i++)
        if (a->conns[i].fd >= 0)
            admin_close(a, &a->conns[i]);
    px_loop_del(a->loop, a->fd, PX_READABLE);
    close(a->fd);
    free(a);
}

int px_admin_port(const px_admin *a)
{
    return a->port;
}

void px_admin_tick(px_admin *a, int64_t now)
{
    for (int i = 0; i < ADMIN_MAX_CONNS; i++) {
        admin_conn *c = &a->conns[i];
        if (c->fd >= 0 && (now >= c->deadline || (c->inlen == 0 && c->resp == NULL &&
                                                  now - c->since >= ADMIN_IDLE_MS)))
            admin_close(a, c);
    }
    if (a->accept_paused && px_loop_add(a->loop, a->fd, PX_READABLE, on_admin_accept, a) == 0)
        a->accept_paused = 0;
}
