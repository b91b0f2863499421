/* The scripted blocking network of mock_net.h. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mock_net.h"

#define MOCK_HANDLES 16

static struct mock_conn {
    int used;
    char out[1024];
    size_t len, off;
} mock_conn[MOCK_HANDLES];
int mock_opens;
int mock_auths;
int mock_fail_open;
int mock_refused_port;
char mock_master_host[64];
int mock_master_port;

void mock_net_reset(void)
{
    memset(mock_conn, 0, sizeof(mock_conn));
    mock_opens = 0;
    mock_auths = 0;
    mock_fail_open = 0;
    mock_refused_port = 0;
    snprintf(mock_master_host, sizeof(mock_master_host), "127.0.0.1");
    mock_master_port = 6380;
}

static int mock_open(const char *host, int port, int64_t deadline_ms, sn_err *e)
{
    (void)host;
    (void)deadline_ms;
    if (mock_refused_port != 0 && port == mock_refused_port)
        return sn_err_set(e, SENTINEL_ERR_NO_SENTINEL_REACHABLE, "mock: refused");
    mock_opens++;
    if (mock_fail_open)
        return sn_err_set(e, SENTINEL_ERR_MASTER_UNREACHABLE, "mock: connection refused");
    for (int i = 0; i < MOCK_HANDLES; i++) {
        if (!mock_conn[i].used) {
            mock_conn[i].used = 1;
            mock_conn[i].len = mock_conn[i].off = 0;
            return i;
        }
    }
    return sn_err_set(e, SENTINEL_ERR_SYSTEM, "mock: out of handles");
}

static void mock_queue(int h, const char *fmt, ...)
{
    struct mock_conn *c = &mock_conn[h];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(c->out + c->len, sizeof(c->out) - c->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->len += (size_t)n;
}

static ssize_t mock_send(int h, const void *buf, size_t len, int64_t deadline_ms, sn_err *e)
{
    (void)deadline_ms;
    (void)e;
    if (memmem(buf, len, "get-master-addr-by-name", 23) != NULL) {
        char port[16];
        snprintf(port, sizeof(port), "%d", mock_master_port);
        mock_queue(h, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(mock_master_host),
                   mock_master_host, strlen(port), port);
    } else if (memmem(buf, len, "sentinels", 9) != NULL) {
        mock_queue(h, "*0\r\n");
    } else if (memmem(buf, len, "ROLE", 4) != NULL) {
        mock_queue(h, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    } else if (len >= 14 && memcmp(buf, "*", 1) == 0 && memmem(buf, 14, "AUTH", 4) != NULL) {
        mock_auths++;
        mock_queue(h, "+OK\r\n");
    } else {
        mock_queue(h, "-ERR mock does not know this command\r\n");
    }
    return (ssize_t)len;
}

static ssize_t mock_recv(int h, void *buf, size_t cap, int64_t deadline_ms, sn_err *e)
{
    struct mock_conn *c = &mock_conn[h];
    size_t n = c->len - c->off;

    (void)deadline_ms;
    if (n == 0)
        return sn_err_set(e, SENTINEL_ERR_TIMEOUT, "mock: nothing to read");
    if (n > cap)
        n = cap;
    memcpy(buf, c->out + c->off, n);
    c->off += n;
    return (ssize_t)n;
}

static void mock_close(int h)
{
    mock_conn[h].used = 0;
}

const sn_transport mock_transport = {
    .open = mock_open,
    .send = mock_send,
    .recv = mock_recv,
    .close = mock_close,
};
