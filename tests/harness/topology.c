/*
 * Test harness: a real Redis Sentinel topology on free loopback ports.
 * See topology.h for the contract; this file is organised by concern:
 * utilities, files, ports, processes, redis queries, configs, state file,
 * registry and signal cleanup, waits, then the public API.
 *
 * Over 800 lines (~2200): one harness, one state (the processes, their
 * ports and the state file other processes share through `ctl`); each
 * concern above is small and they all read and write that state, so the
 * split would be a shared header of internals rather than separate roles.
 */
#define _GNU_SOURCE

#include "topology.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 1000      /* per connect and per command */
#define POLL_INTERVAL_MS 25
#define READY_TIMEOUT_MS 5000   /* one process answering after spawn */
#define START_TIMEOUT_MS 30000  /* whole topology in sync */
#define REAP_TIMEOUT_MS 5000
#define ADOPT_TIMEOUT_MS 2000   /* detached spawn: wait to be re-parented */
/* Sentinel reconnects at most once per 1 s ping period, counted from its
 * start: a master killed in its first second is seen down ~1 s late. */
#define SENTINEL_SETTLE_MS 1100
#define LAUNCH_ATTEMPTS 4       /* a port can be taken between pick and bind */
#define STR_MAX 128
#define STATE_FILE "topology.state"
#define LOCK_FILE "topology.lock"
#define STATE_VERSION 1

enum proc_kind { KIND_NODE, KIND_SENTINEL };

struct topo_proc {
    int port;
    pid_t pid;   /* last pid; meaningful unless state is TOPO_DEAD */
    int state;   /* enum topo_proc_state */
    int dirty;   /* changed here since the last state_save() */
};

struct topo {
    char dir[PATH_MAX];
    char master_name[STR_MAX];
    char sentinel_password[STR_MAX]; /* "" = none, as for the others */
    char data_password[STR_MAX];
    char data_acl_user[STR_MAX];
    char data_acl_password[STR_MAX];
    int acl_no_subscribe;
    int down_after_ms;
    int failover_timeout_ms;
    int info_period_ms; /* 0 = Sentinel's own (10 s) */
    int nnodes;
    int nsentinels;
    struct topo_proc nodes[TOPO_MAX_NODES];
    struct topo_proc sentinels[TOPO_MAX_SENTINELS];
    char sentinel_ids[TOPO_MAX_SENTINELS][41]; /* `sentinel myid`, 40 hex */
    char sentinel_list[TOPO_MAX_SENTINELS * 24];
    /* The process whose children the redis processes are: restarted
     * processes tie their PDEATHSIG to it. */
    pid_t keeper_pid;
    /* The process that stops this topology at exit; 0 for attached handles
     * and in forked children, so they never tear down their parent's. */
    pid_t owner_pid;
    int keep_dir;
    long long sentinels_started_ms; /* monotonic, end of sentinels_launch() */
    char err[1024];
    struct topo *next; /* registry of owned topologies */
};

/* ======================================================================
 * Utilities
 * ====================================================================== */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Async-signal-safe (also used between fork and exec). */
static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void set_err(topo_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_err(topo_t *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
}

/* Prefixes the current error message, keeping the detail. */
static void wrap_err(topo_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void wrap_err(topo_t *t, const char *fmt, ...)
{
    char prefix[512], detail[sizeof t->err];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(detail, t->err, sizeof detail);
    /* Truncating a long detail is fine. */
    if (snprintf(t->err, sizeof t->err, "%s: %s", prefix, detail[0] ? detail : "?") < 0)
        t->err[0] = '\0';
}

/* Config values go into redis config files unquoted. */
static int value_ok(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s <= ' ' || *s == '"' || *s == '\'' || *s == '\\' || *s == 0x7f)
            return 0;
    }
    return 1;
}

static int copy_value(topo_t *t, char *dst, const char *src, const char *what)
{
    if (src == NULL) {
        dst[0] = '\0';
        return 0;
    }
    if (strlen(src) >= STR_MAX || !value_ok(src)) {
        set_err(t, "%s: empty, too long, or contains whitespace/quotes", what);
        return -1;
    }
    if (src[0] == '\0') {
        set_err(t, "%s: empty", what);
        return -1;
    }
    strcpy(dst, src);
    return 0;
}

static int env_flag(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static const char *server_bin(void)
{
    const char *b = getenv("REDIS_SERVER");

    return b != NULL && b[0] != '\0' ? b : "redis-server";
}

static const char *sentinel_bin(void)
{
    const char *b = getenv("REDIS_SENTINEL");

    return b != NULL && b[0] != '\0' ? b : "redis-sentinel";
}

/* ======================================================================
 * Files
 * ====================================================================== */

static const char *kind_name(enum proc_kind kind)
{
    return kind == KIND_NODE ? "node" : "sentinel";
}

/* DIR/node-I/NAME or DIR/sentinel-I/NAME (NAME "" = the directory). */
static int proc_path(const topo_t *t, enum proc_kind kind, int i, const char *name,
                     char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s-%d%s%s", t->dir, kind_name(kind), i,
                     name[0] ? "/" : "", name);

    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int top_path(const topo_t *t, const char *name, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s", t->dir, name);

    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void dir_remove(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The last bytes of a log file, one line, for error messages. */
static void log_tail(const char *path, char *out, size_t outlen)
{
    FILE *f = fopen(path, "r");
    long size;
    size_t n, i;

    out[0] = '\0';
    if (f == NULL)
        return;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
        long from = size > (long)outlen - 1 ? size - (long)outlen + 1 : 0;

        if (fseek(f, from, SEEK_SET) == 0) {
            n = fread(out, 1, outlen - 1, f);
            out[n] = '\0';
            for (i = 0; i < n; i++)
                if (out[i] == '\n' || out[i] == '\r')
                    out[i] = '|';
        }
    }
    fclose(f);
}

static int dir_create(topo_t *t)
{
    const char *base = getenv("TMPDIR");
    char path[PATH_MAX];
    int i, n;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    n = snprintf(t->dir, sizeof t->dir, "%s/sentinel-topology.XXXXXX", base);
    if (n < 0 || (size_t)n >= sizeof t->dir || mkdtemp(t->dir) == NULL) {
        set_err(t, "mkdtemp under %s: %s", base, strerror(errno));
        t->dir[0] = '\0';
        return -1;
    }
    for (i = 0; i < t->nnodes + t->nsentinels; i++) {
        enum proc_kind kind = i < t->nnodes ? KIND_NODE : KIND_SENTINEL;
        int idx = i < t->nnodes ? i : i - t->nnodes;

        if (proc_path(t, kind, idx, "", path, sizeof path) != 0 || mkdir(path, 0700) != 0) {
            set_err(t, "mkdir %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* ======================================================================
 * Ports
 * ====================================================================== */

static struct topo_proc *proc_at(topo_t *t, enum proc_kind kind, int i)
{
    if (kind == KIND_NODE)
        return i >= 0 && i < t->nnodes ? &t->nodes[i] : NULL;
    return i >= 0 && i < t->nsentinels ? &t->sentinels[i] : NULL;
}

static int port_taken_here(const topo_t *t, int port)
{
    int i;

    for (i = 0; i < t->nnodes; i++)
        if (t->nodes[i].port == port)
            return 1;
    for (i = 0; i < t->nsentinels; i++)
        if (t->sentinels[i].port == port)
            return 1;
    return 0;
}

/* Gives every process a distinct free loopback port. The sockets stay
 * bound until all are picked, so the kernel cannot hand one out twice. */
static int ports_pick(topo_t *t, struct topo_proc **procs, int n)
{
    int fds[TOPO_MAX_NODES + TOPO_MAX_SENTINELS];
    struct sockaddr_in sa;
    socklen_t salen;
    int i, opened = 0, rc = -1;

    for (i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0)
            goto out;
        opened++;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        salen = sizeof sa;
        if (bind(fds[i], (struct sockaddr *)&sa, sizeof sa) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&sa, &salen) != 0)
            goto out;
        procs[i]->port = ntohs(sa.sin_port);
    }
    rc = 0;
out:
    if (rc != 0)
        set_err(t, "picking a free loopback port: %s", strerror(errno));
    for (i = 0; i < opened; i++)
        close(fds[i]);
    return rc;
}

/* A new port for one process whose port turned out to be busy. */
static int port_repick(topo_t *t, struct topo_proc *p)
{
    int tries;

    for (tries = 0; tries < 16; tries++) {
        struct topo_proc cand = { 0 };
        struct topo_proc *one = &cand;

        if (ports_pick(t, &one, 1) != 0)
            return -1;
        if (!port_taken_here(t, cand.port)) {
            p->port = cand.port;
            return 0;
        }
    }
    set_err(t, "no free loopback port distinct from the topology's");
    return -1;
}

/* ======================================================================
 * Processes
 *
 * Between fork and exec only async-signal-safe calls: the test program
 * may have threads.
 * ====================================================================== */

struct spawn_req {
    const char *argv[4];      /* command line */
    const char *fallback[4];  /* tried when argv[0] is not found */
    char out_path[PATH_MAX];  /* stdout and stderr (config errors go there) */
    pid_t die_with;           /* PDEATHSIG tied to this parent; 0 = none */
};

static void fds_mark_cloexec(void)
{
    int fd;

    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    for (fd = 3; fd < 1024; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Child side: never returns. On exec failure writes errno to errfd. */
static void child_exec(const struct spawn_req *rq, int errfd)
{
    sigset_t none;
    int fd, e;

    /* Own process group: a terminal's ^C reaches the test, which then
     * kills these, instead of starting redis' graceful shutdown. */
    setpgid(0, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (rq->die_with > 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != rq->die_with) /* the parent died before prctl */
            _exit(126);
    }
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0)
        dup2(fd, 0);
    fd = open(rq->out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    fds_mark_cloexec();
    execvp(rq->argv[0], (char *const *)rq->argv);
    e = errno;
    if (e == ENOENT && rq->fallback[0] != NULL) {
        execvp(rq->fallback[0], (char *const *)rq->fallback);
        e = errno;
    }
    if (write(errfd, &e, sizeof e) < 0) {
        /* nothing left to report with */
    }
    _exit(127);
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* A child of ours that dies with this thread. */
static pid_t spawn_owned(topo_t *t, const struct spawn_req *rq)
{
    struct spawn_req req = *rq;
    int fds[2], e;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) != 0) {
        set_err(t, "pipe: %s", strerror(errno));
        return -1;
    }
    req.die_with = getpid();
    pid = fork();
    if (pid < 0) {
        set_err(t, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child_exec(&req, fds[1]);
    }
    close(fds[1]);
    if (read_full(fds[0], &e, sizeof e) == sizeof e) {
        close(fds[0]);
        waitpid(pid, NULL, 0);
        set_err(t, "cannot run %s: %s", rq->argv[0], strerror(e));
        return -1;
    }
    close(fds[0]);
    return pid;
}

/* Grandchild side of spawn_detached(): once the middle process is gone,
 * tie our life to the adopter if that is who adopted us. */
static void detached_adopt(pid_t middle, pid_t adopter)
{
    int waited;

    for (waited = 0; waited < ADOPT_TIMEOUT_MS && getppid() == middle; waited++)
        sleep_ms(1);
    if (adopter > 0 && getppid() == adopter) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != adopter)
            _exit(126);
    }
}

/* A process that outlives the caller (the `ctl` command exits right away):
 * double fork, so it is re-parented to the nearest child subreaper (the
 * `run` process) or init. */
static pid_t spawn_detached(topo_t *t, const struct spawn_req *rq, pid_t adopter)
{
    struct spawn_req req = *rq;
    int fds[2], e;
    pid_t middle, pid = -1;

    if (pipe2(fds, O_CLOEXEC) != 0) {
        set_err(t, "pipe: %s", strerror(errno));
        return -1;
    }
    req.die_with = 0;
    middle = fork();
    if (middle < 0) {
        set_err(t, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (middle == 0) {
        pid_t self = getpid(), child;

        close(fds[0]);
        setsid();
        child = fork();
        if (child != 0) {
            if (write(fds[1], &child, sizeof child) < 0)
                _exit(1);
            _exit(child < 0);
        }
        detached_adopt(self, adopter);
        child_exec(&req, fds[1]);
    }
    close(fds[1]);
    if (read_full(fds[0], &pid, sizeof pid) != sizeof pid || pid < 0) {
        set_err(t, "fork (detached): failed");
        pid = -1;
    } else if (read_full(fds[0], &e, sizeof e) == sizeof e) {
        set_err(t, "cannot run %s: %s", rq->argv[0], strerror(e));
        pid = -1;
    }
    close(fds[0]);
    waitpid(middle, NULL, 0);
    return pid;
}

/* The state letter in /proc/PID/stat, or 0 if there is no such process. */
static char pid_stat_state(pid_t pid)
{
    char path[64], buf[512], *paren;
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    paren = strrchr(buf, ')');
    return paren != NULL && paren[1] == ' ' ? paren[2] : 0;
}

/* Still running (or stopped)? Our own child is reaped once it has died;
 * for anyone else's, a zombie counts as gone. */
static int pid_running(pid_t pid)
{
    char st;
    pid_t r;

    if (pid <= 0)
        return 0;
    r = waitpid(pid, NULL, WNOHANG);
    if (r == pid)
        return 0;
    if (r == 0)
        return 1;
    st = pid_stat_state(pid);
    return st != 0 && st != 'Z' && st != 'X';
}

static int pid_kill_and_reap(pid_t pid)
{
    long long deadline = now_ms() + REAP_TIMEOUT_MS;

    if (pid <= 0)
        return 0;
    if (kill(pid, SIGKILL) != 0 && errno != ESRCH)
        return -1;
    while (pid_running(pid)) {
        if (now_ms() >= deadline)
            return -1;
        sleep_ms(2);
    }
    return 0;
}

static int proc_kill(topo_t *t, struct topo_proc *p)
{
    if (p->state == TOPO_DEAD)
        return 0;
    if (pid_kill_and_reap(p->pid) != 0) {
        set_err(t, "pid %d survived SIGKILL", (int)p->pid);
        return -1;
    }
    p->state = TOPO_DEAD;
    p->dirty = 1;
    return 0;
}

/* Waits (bounded) for /proc to show the stop or the continue. */
static int pid_wait_stopped(pid_t pid, int stopped)
{
    int i;

    for (i = 0; i < 500; i++) {
        char st = pid_stat_state(pid);

        if (st == 0 || st == 'Z')
            return -1;
        if ((st == 'T') == stopped)
            return 0;
        sleep_ms(2);
    }
    return -1;
}

/* ======================================================================
 * Redis queries
 * ====================================================================== */

static struct timeval io_timeout(void)
{
    struct timeval tv = { IO_TIMEOUT_MS / 1000, (IO_TIMEOUT_MS % 1000) * 1000 };

    return tv;
}

static const char *proc_password(const topo_t *t, enum proc_kind kind)
{
    return kind == KIND_NODE ? t->data_password : t->sentinel_password;
}

/* A connection to 127.0.0.1:port, authenticated as the default user. */
static redisContext *conn_open(topo_t *t, int port, const char *password)
{
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, io_timeout());
    redisReply *r;

    if (c == NULL) {
        set_err(t, "port %d: out of memory", port);
        return NULL;
    }
    if (c->err) {
        set_err(t, "port %d: %s", port, c->errstr);
        goto fail;
    }
    if (redisSetTimeout(c, io_timeout()) != REDIS_OK) {
        set_err(t, "port %d: setting timeout: %s", port, c->errstr);
        goto fail;
    }
    if (password[0] == '\0')
        return c;
    r = redisCommand(c, "AUTH %s", password);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        set_err(t, "port %d: AUTH: %s", port, r ? r->str : c->errstr);
        freeReplyObject(r);
        goto fail;
    }
    freeReplyObject(r);
    return c;
fail:
    redisFree(c);
    return NULL;
}

/* One command on a fresh connection to a live process. NULL on I/O error,
 * error reply, or when the process is dead or frozen (it would only time
 * out); the caller frees the reply. */
static redisReply *proc_command(topo_t *t, enum proc_kind kind, int i, const char *fmt, ...)
{
    struct topo_proc *p = proc_at(t, kind, i);
    redisContext *c;
    redisReply *r;
    va_list ap;

    if (p == NULL || p->state != TOPO_ALIVE) {
        set_err(t, "%s %d is not running", kind_name(kind), i);
        return NULL;
    }
    c = conn_open(t, p->port, proc_password(t, kind));
    if (c == NULL)
        return NULL;
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        set_err(t, "%s %d (port %d): %s", kind_name(kind), i, p->port, c->errstr);
    } else if (r->type == REDIS_REPLY_ERROR) {
        set_err(t, "%s %d (port %d): %s", kind_name(kind), i, p->port, r->str);
        freeReplyObject(r);
        r = NULL;
    }
    redisFree(c);
    return r;
}

/* FIELD's value in an INFO text, into out. 0/-1. */
static int info_get(const char *info, const char *field, char *out, size_t outlen)
{
    size_t flen = strlen(field), n;
    const char *line = info;

    while (line != NULL && *line != '\0') {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            const char *v = line + flen + 1;

            n = strcspn(v, "\r\n");
            if (n >= outlen)
                return -1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return -1;
}

static int parse_ll(const char *s, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && end != s ? 0 : -1;
}

/* The value of KEY in a flat key/value array (SENTINEL master, replicas). */
static const char *kv_get(const redisReply *r, const char *key)
{
    size_t i;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];

        if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
            strcmp(k->str, key) == 0)
            return v->str;
    }
    return NULL;
}

/* The INFO process_id of whatever answers on the process' port: proves the
 * port is served by our process and not a squatter. */
static pid_t proc_answering_pid(topo_t *t, enum proc_kind kind, int i)
{
    redisReply *r = proc_command(t, kind, i, "INFO server");
    char buf[32];
    long long pid = -1;

    if (r != NULL && r->type == REDIS_REPLY_STRING &&
        info_get(r->str, "process_id", buf, sizeof buf) == 0)
        parse_ll(buf, &pid);
    freeReplyObject(r);
    return (pid_t)pid;
}

/* 1 master, 0 replica, -1 unknown. */
static int node_is_master(topo_t *t, int i)
{
    redisReply *r = proc_command(t, KIND_NODE, i, "ROLE");
    int rc = -1;

    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_STRING)
        rc = strcmp(r->element[0]->str, "master") == 0;
    else if (r != NULL)
        set_err(t, "node %d: unexpected ROLE reply", i);
    freeReplyObject(r);
    return rc;
}

static int node_index_by_port(const topo_t *t, int port)
{
    int i;

    for (i = 0; i < t->nnodes; i++)
        if (t->nodes[i].port == port)
            return i;
    return -1;
}

/* 1 when node i replicates master_port with the link up. */
static int replica_linked(topo_t *t, int i, int master_port)
{
    redisReply *r = proc_command(t, KIND_NODE, i, "INFO replication");
    char role[16], port[16], link[16];
    int rc = 0;

    if (r == NULL || r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return 0;
    }
    if (info_get(r->str, "role", role, sizeof role) == 0 && strcmp(role, "slave") == 0 &&
        info_get(r->str, "master_port", port, sizeof port) == 0 && atoi(port) == master_port &&
        info_get(r->str, "master_link_status", link, sizeof link) == 0 &&
        strcmp(link, "up") == 0)
        rc = 1;
    else
        set_err(t, "node %d: not yet a linked replica of port %d", i, master_port);
    freeReplyObject(r);
    return rc;
}

/* Does sentinel s's SENTINEL replicas list node i as a healthy replica of
 * master_port, from a fresh INFO? Sentinels re-read a replica's INFO only
 * every info-period (10 s), so after a failover their view lags; a sentinel
 * that still believes a promoted replica is a stale master demotes it again
 * ("+convert-to-slave") if a manual failover starts too soon. */
static int sentinel_lists_replica(topo_t *t, const redisReply *list, int s, int i,
                                  int master_port)
{
    size_t k;

    for (k = 0; k < list->elements; k++) {
        const redisReply *e = list->element[k];
        const char *port = kv_get(e, "port"), *flags = kv_get(e, "flags");
        const char *link = kv_get(e, "master-link-status"), *mport = kv_get(e, "master-port");
        const char *role = kv_get(e, "role-reported");

        if (port == NULL || atoi(port) != t->nodes[i].port)
            continue;
        if (flags != NULL && strstr(flags, "down") == NULL &&
            strstr(flags, "disconnected") == NULL && role != NULL &&
            strcmp(role, "slave") == 0 && link != NULL && strcmp(link, "ok") == 0 &&
            mport != NULL && atoi(mport) == master_port)
            return 1;
        set_err(t, "sentinel %d: replica %d is %s, role-reported %s, link %s, master-port %s",
                s, i, flags ? flags : "?", role ? role : "?", link ? link : "?",
                mport ? mport : "?");
        return 0;
    }
    set_err(t, "sentinel %d: does not list replica %d yet", s, i);
    return 0;
}

static int live_count(const struct topo_proc *procs, int n)
{
    int i, live = 0;

    for (i = 0; i < n; i++)
        live += procs[i].state == TOPO_ALIVE;
    return live;
}

/* At start every sentinel must reach every other: peers that were not yet
 * listening when it first connected flap +sdown until its 1 s reconnect. */
static int sentinel_peers_linked(topo_t *t, const redisReply *list, int s)
{
    size_t k;

    for (k = 0; k < list->elements; k++) {
        const char *flags = kv_get(list->element[k], "flags");
        const char *port = kv_get(list->element[k], "port");

        if (flags == NULL || strstr(flags, "down") != NULL ||
            strstr(flags, "disconnected") != NULL) {
            set_err(t, "sentinel %d: peer on port %s is %s", s, port ? port : "?",
                    flags ? flags : "?");
            return 0;
        }
    }
    return 1;
}

/* Sentinel s knows enough sentinels and lists every live replica of the
 * master (node m) as healthy. exact (at start): knows all the others. */
static int sentinel_sees(topo_t *t, int s, int m, int exact)
{
    int want = exact ? t->nsentinels - 1 : live_count(t->sentinels, t->nsentinels) - 1;
    redisReply *r;
    int i, ok, known;

    r = proc_command(t, KIND_SENTINEL, s, "SENTINEL sentinels %s", t->master_name);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return 0;
    }
    known = (int)r->elements;
    ok = !exact || sentinel_peers_linked(t, r, s);
    freeReplyObject(r);
    if (!ok)
        return 0;
    if (exact ? known != want : known < want) {
        set_err(t, "sentinel %d: knows %d other sentinels, want %d", s, known, want);
        return 0;
    }
    r = proc_command(t, KIND_SENTINEL, s, "SENTINEL replicas %s", t->master_name);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return 0;
    }
    ok = 1;
    for (i = 0; ok && i < t->nnodes; i++)
        if (i != m && t->nodes[i].state == TOPO_ALIVE)
            ok = sentinel_lists_replica(t, r, s, i, t->nodes[m].port);
    freeReplyObject(r);
    return ok;
}

/* ======================================================================
 * Configs
 * ====================================================================== */

static int config_open(topo_t *t, enum proc_kind kind, int i, FILE **f, char *dir, size_t dirlen)
{
    char path[PATH_MAX];

    if (proc_path(t, kind, i, "", dir, dirlen) != 0 ||
        proc_path(t, kind, i, kind == KIND_NODE ? "redis.conf" : "sentinel.conf",
                  path, sizeof path) != 0) {
        set_err(t, "path too long under %s", t->dir);
        return -1;
    }
    *f = fopen(path, "w");
    if (*f == NULL) {
        set_err(t, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int config_close(topo_t *t, FILE *f)
{
    int bad = ferror(f);

    if (fclose(f) != 0 || bad) {
        set_err(t, "writing a config file: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* master_port 0: a master; otherwise a replica of that port. */
static int node_write_config(topo_t *t, int i, int master_port)
{
    char dir[PATH_MAX];
    FILE *f;

    if (config_open(t, KIND_NODE, i, &f, dir, sizeof dir) != 0)
        return -1;
    fprintf(f, "port %d\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\n", t->nodes[i].port);
    fprintf(f, "dir %s\nlogfile %s/redis.log\n", dir, dir);
    fprintf(f, "save \"\"\nappendonly no\n");
    /* Redis 7 delays diskless sync 5 s by default; replicas must be in
     * sync before a fault, fast. */
    fprintf(f, "repl-diskless-sync yes\nrepl-diskless-sync-delay 0\n");
    /* A replica loads the master's data from the socket, never through a
     * dump.rdb on disk: with the default (disk) load, a node that was once a
     * replica keeps that file, and when it is later killed and restarted as
     * a master it loads it, resurrecting data from before a FLUSHALL (the
     * proxy fuzzer saw a counter come back from a previous run). Without
     * persistence a restarted node must come back empty. */
    fprintf(f, "repl-diskless-load swapdb\n");
    fprintf(f, "enable-debug-command local\n");
    if (t->data_password[0])
        fprintf(f, "requirepass %s\nmasterauth %s\n", t->data_password, t->data_password);
    if (t->data_acl_user[0])
        fprintf(f, "user %s on >%s ~* &* +@all\n", t->data_acl_user, t->data_acl_password);
    if (master_port > 0)
        fprintf(f, "replicaof 127.0.0.1 %d\n", master_port);
    return config_close(t, f);
}

static int sentinel_write_config(topo_t *t, int i, int master_port)
{
    const char *name = t->master_name;
    char dir[PATH_MAX];
    FILE *f;
    int j;

    if (config_open(t, KIND_SENTINEL, i, &f, dir, sizeof dir) != 0)
        return -1;
    fprintf(f, "port %d\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\n", t->sentinels[i].port);
    fprintf(f, "dir %s\nlogfile %s/sentinel.log\n", dir, dir);
    fprintf(f, "sentinel monitor %s 127.0.0.1 %d %d\n", name, master_port, t->nsentinels / 2 + 1);
    /* Known from the start, as after a restart, instead of ~2 s of hello
     * messages (the same lines Sentinel writes when it rewrites this). */
    fprintf(f, "sentinel myid %s\n", t->sentinel_ids[i]);
    for (j = 0; j < t->nsentinels; j++)
        if (j != i)
            fprintf(f, "sentinel known-sentinel %s 127.0.0.1 %d %s\n", name,
                    t->sentinels[j].port, t->sentinel_ids[j]);
    fprintf(f, "sentinel down-after-milliseconds %s %d\n", name, t->down_after_ms);
    fprintf(f, "sentinel failover-timeout %s %d\n", name, t->failover_timeout_ms);
    fprintf(f, "sentinel parallel-syncs %s 1\n", name);
    if (t->data_password[0])
        fprintf(f, "sentinel auth-pass %s %s\n", name, t->data_password);
    if (t->sentinel_password[0])
        fprintf(f, "requirepass %s\nsentinel sentinel-pass %s\n", t->sentinel_password,
                t->sentinel_password);
    /* What a sentinel client needs, minus SUBSCRIBE/PSUBSCRIBE (verified
     * against 7.0: PSUBSCRIBE gets NOPERM, get-master-addr-by-name works). */
    if (t->acl_no_subscribe)
        fprintf(f, "user " TOPO_LIMITED_USER " on >" TOPO_LIMITED_PASSWORD
                   " resetchannels -@all +auth +hello +ping +role +info +client|setname"
                   " +sentinel|get-master-addr-by-name +sentinel|sentinels"
                   " +sentinel|replicas +sentinel|slaves +sentinel|master"
                   " +sentinel|masters\n");
    return config_close(t, f);
}

/* ======================================================================
 * State file: DIR/topology.state, key=value lines, rewritten atomically
 * under an flock so concurrent `ctl` commands do not lose each other's
 * changes.
 * ====================================================================== */

static int state_lock(const topo_t *t)
{
    char path[PATH_MAX];
    int fd;

    if (top_path(t, LOCK_FILE, path, sizeof path) != 0)
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void state_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

static int state_parse_proc(topo_t *t, const char *key, const char *val)
{
    enum proc_kind kind;
    struct topo_proc *p;
    int i, port, pid, state;

    if (sscanf(key, "node.%d", &i) == 1)
        kind = KIND_NODE;
    else if (sscanf(key, "sentinel.%d", &i) == 1)
        kind = KIND_SENTINEL;
    else
        return 0; /* unknown keys: from a newer version */
    p = proc_at(t, kind, i);
    if (p == NULL || sscanf(val, "%d %d %d", &port, &pid, &state) != 3)
        return -1;
    p->port = port;
    p->pid = pid;
    p->state = state;
    return 0;
}

static int state_parse_line(topo_t *t, char *line)
{
    char *eq = strchr(line, '='), *val;
    size_t n;

    if (eq == NULL)
        return line[0] == '\0' ? 0 : -1;
    *eq = '\0';
    val = eq + 1;
    n = strcspn(val, "\n");
    val[n] = '\0';
    if (strcmp(line, "version") == 0)
        return atoi(val) == STATE_VERSION ? 0 : -1;
#define STATE_STR(k) \
    if (strcmp(line, #k) == 0) \
        return strlen(val) < sizeof t->k ? (strcpy(t->k, val), 0) : -1
    STATE_STR(master_name);
    STATE_STR(sentinel_password);
    STATE_STR(data_password);
    STATE_STR(data_acl_user);
    STATE_STR(data_acl_password);
#undef STATE_STR
#define STATE_INT(k) \
    if (strcmp(line, #k) == 0) \
        return (t->k = atoi(val)), 0
    STATE_INT(acl_no_subscribe);
    STATE_INT(down_after_ms);
    STATE_INT(failover_timeout_ms);
    STATE_INT(info_period_ms);
    STATE_INT(keeper_pid);
    STATE_INT(nnodes);
    STATE_INT(nsentinels);
#undef STATE_INT
    return state_parse_proc(t, line, val);
}

/* Reads DIR/topology.state into t (whose dir is set). */
static int state_read(topo_t *t)
{
    char path[PATH_MAX], line[512];
    FILE *f;
    int rc = 0;

    if (top_path(t, STATE_FILE, path, sizeof path) != 0)
        return -1;
    f = fopen(path, "r");
    if (f == NULL) {
        set_err(t, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        rc = state_parse_line(t, line);
        if (t->nnodes > TOPO_MAX_NODES || t->nsentinels > TOPO_MAX_SENTINELS)
            rc = -1;
    }
    fclose(f);
    if (rc != 0 || t->nnodes < 1 || t->master_name[0] == '\0') {
        set_err(t, "%s: malformed", path);
        return -1;
    }
    return 0;
}

static void state_print_procs(FILE *f, const char *kind, const struct topo_proc *p, int n)
{
    int i;

    for (i = 0; i < n; i++)
        fprintf(f, "%s.%d=%d %d %d\n", kind, i, p[i].port, (int)p[i].pid, p[i].state);
}

static int state_write(topo_t *t)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    FILE *f;
    int bad;

    if (top_path(t, STATE_FILE, path, sizeof path) != 0 ||
        top_path(t, STATE_FILE ".tmp", tmp, sizeof tmp) != 0)
        return -1;
    f = fopen(tmp, "w");
    if (f == NULL) {
        set_err(t, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "version=%d\nmaster_name=%s\n", STATE_VERSION, t->master_name);
    fprintf(f, "sentinel_password=%s\ndata_password=%s\n", t->sentinel_password, t->data_password);
    fprintf(f, "data_acl_user=%s\ndata_acl_password=%s\n", t->data_acl_user, t->data_acl_password);
    fprintf(f, "acl_no_subscribe=%d\ndown_after_ms=%d\nfailover_timeout_ms=%d\n",
            t->acl_no_subscribe, t->down_after_ms, t->failover_timeout_ms);
    fprintf(f, "info_period_ms=%d\n", t->info_period_ms);
    fprintf(f, "keeper_pid=%d\nnnodes=%d\nnsentinels=%d\n", (int)t->keeper_pid, t->nnodes,
            t->nsentinels);
    state_print_procs(f, "node", t->nodes, t->nnodes);
    state_print_procs(f, "sentinel", t->sentinels, t->nsentinels);
    bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        set_err(t, "writing %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Merges: our changed processes win, everything else is refreshed from the
 * file (another process may have restarted something). */
static void state_merge(topo_t *t, const topo_t *file)
{
    int i;

    for (i = 0; i < t->nnodes && i < file->nnodes; i++)
        if (!t->nodes[i].dirty)
            t->nodes[i] = file->nodes[i];
    for (i = 0; i < t->nsentinels && i < file->nsentinels; i++)
        if (!t->sentinels[i].dirty)
            t->sentinels[i] = file->sentinels[i];
}

static void state_clear_dirty(topo_t *t)
{
    int i;

    for (i = 0; i < t->nnodes; i++)
        t->nodes[i].dirty = 0;
    for (i = 0; i < t->nsentinels; i++)
        t->sentinels[i].dirty = 0;
}

/* Loads the file into a scratch copy of t; NULL when there is none. */
static topo_t *state_load_copy(const topo_t *t)
{
    topo_t *file = calloc(1, sizeof *file);

    if (file == NULL)
        return NULL;
    memcpy(file->dir, t->dir, sizeof file->dir);
    if (state_read(file) != 0) {
        free(file);
        return NULL;
    }
    return file;
}

static int state_save(topo_t *t)
{
    int fd = state_lock(t), rc;
    topo_t *file;

    if (fd < 0) {
        set_err(t, "locking the state in %s: %s", t->dir, strerror(errno));
        return -1;
    }
    file = state_load_copy(t);
    if (file != NULL)
        state_merge(t, file);
    free(file);
    rc = state_write(t);
    if (rc == 0)
        state_clear_dirty(t);
    state_unlock(fd);
    return rc;
}

/* Refreshes t from the file before acting: a fresh view of pids. */
static void state_refresh(topo_t *t)
{
    int fd = state_lock(t);
    topo_t *file;

    if (fd < 0)
        return;
    file = state_load_copy(t);
    if (file != NULL)
        state_merge(t, file);
    free(file);
    state_unlock(fd);
}

/* ======================================================================
 * Registry and cleanup on exit and on SIGINT/SIGTERM
 * ====================================================================== */

static topo_t *registry;
static int cleanup_installed;

static void registry_block(sigset_t *old)
{
    sigset_t block;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, old);
}

static void registry_unblock(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

/* Async-signal-safe: kill, reap, and fork+exec rm for the directory. */
static void topo_kill_from_handler(topo_t *t)
{
    int i;

    for (i = 0; i < t->nnodes; i++)
        if (t->nodes[i].state != TOPO_DEAD)
            kill(t->nodes[i].pid, SIGKILL);
    for (i = 0; i < t->nsentinels; i++)
        if (t->sentinels[i].state != TOPO_DEAD)
            kill(t->sentinels[i].pid, SIGKILL);
    for (i = 0; i < t->nnodes; i++)
        if (t->nodes[i].state != TOPO_DEAD)
            waitpid(t->nodes[i].pid, NULL, 0);
    for (i = 0; i < t->nsentinels; i++)
        if (t->sentinels[i].state != TOPO_DEAD)
            waitpid(t->sentinels[i].pid, NULL, 0);
    if (!t->keep_dir && t->dir[0] != '\0') {
        pid_t rm = fork();

        if (rm == 0) {
            execl("/bin/rm", "rm", "-rf", "--", t->dir, (char *)NULL);
            _exit(127);
        }
        if (rm > 0)
            waitpid(rm, NULL, 0);
    }
}

static void on_fatal_signal(int sig)
{
    pid_t self = getpid();
    topo_t *t;

    for (t = registry; t != NULL; t = t->next)
        if (t->owner_pid == self)
            topo_kill_from_handler(t);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void stop_all_at_exit(void)
{
    pid_t self = getpid();
    topo_t *t = registry, *next;

    while (t != NULL) {
        next = t->next;
        if (t->owner_pid == self)
            topo_stop(t);
        t = next;
    }
}

/* Only where nobody else handles the signal: never override the test
 * program's own handlers. */
static void install_if_default(int sig)
{
    struct sigaction cur, sa;

    if (sigaction(sig, NULL, &cur) != 0 || cur.sa_handler != SIG_DFL ||
        (cur.sa_flags & SA_SIGINFO))
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(sig, &sa, NULL);
}

static void registry_add(topo_t *t)
{
    sigset_t old;

    registry_block(&old);
    t->next = registry;
    registry = t;
    registry_unblock(&old);
    if (!cleanup_installed) {
        cleanup_installed = 1;
        atexit(stop_all_at_exit);
        install_if_default(SIGINT);
        install_if_default(SIGTERM);
    }
}

static void registry_remove(topo_t *t)
{
    topo_t **pp;
    sigset_t old;

    registry_block(&old);
    for (pp = &registry; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    registry_unblock(&old);
}

/* ======================================================================
 * Launching processes
 * ====================================================================== */

static int proc_wait_ready(topo_t *t, enum proc_kind kind, int i)
{
    struct topo_proc *p = proc_at(t, kind, i);
    long long deadline = now_ms() + READY_TIMEOUT_MS;
    char path[PATH_MAX], tail[300];
    int polls;

    for (polls = 0; polls < READY_TIMEOUT_MS / 10 + 1; polls++) {
        if (!pid_running(p->pid)) {
            p->state = TOPO_DEAD;
            tail[0] = '\0';
            if (proc_path(t, kind, i, kind == KIND_NODE ? "redis.log" : "sentinel.log",
                          path, sizeof path) == 0)
                log_tail(path, tail, sizeof tail);
            set_err(t, "%s %d (port %d) exited: %s", kind_name(kind), i, p->port, tail);
            return -1;
        }
        if (proc_answering_pid(t, kind, i) == p->pid)
            return 0;
        if (now_ms() >= deadline)
            break;
        sleep_ms(10);
    }
    wrap_err(t, "%s %d (port %d) not answering after %d ms", kind_name(kind), i, p->port,
             READY_TIMEOUT_MS);
    return -1;
}

/* SENTINEL DEBUG settings live only in memory: apply them on every start. */
static int sentinel_apply_timing(topo_t *t, int i)
{
    redisReply *r;
    int rc;

    if (t->info_period_ms <= 0)
        return 0;
    r = proc_command(t, KIND_SENTINEL, i, "SENTINEL DEBUG info-period %d", t->info_period_ms);
    rc = r != NULL ? 0 : -1;
    freeReplyObject(r);
    return rc;
}

static void spawn_req_fill(const topo_t *t, enum proc_kind kind, int i, struct spawn_req *rq,
                           char *conf, size_t conflen)
{
    memset(rq, 0, sizeof *rq);
    if (kind == KIND_NODE) {
        proc_path(t, kind, i, "redis.conf", conf, conflen);
        rq->argv[0] = server_bin();
        rq->argv[1] = conf;
    } else {
        proc_path(t, kind, i, "sentinel.conf", conf, conflen);
        rq->argv[0] = sentinel_bin();
        rq->argv[1] = conf;
        /* No redis-sentinel in PATH: redis-server does it with --sentinel. */
        rq->fallback[0] = server_bin();
        rq->fallback[1] = conf;
        rq->fallback[2] = "--sentinel";
    }
    proc_path(t, kind, i, "output.log", rq->out_path, sizeof rq->out_path);
}

/* Spawns process kind/i from its config and waits until it answers. The
 * owner's processes are its children; anyone else's are detached. */
static int proc_launch(topo_t *t, enum proc_kind kind, int i)
{
    struct topo_proc *p = proc_at(t, kind, i);
    struct spawn_req rq;
    char conf[PATH_MAX];
    pid_t pid;

    spawn_req_fill(t, kind, i, &rq, conf, sizeof conf);
    if (t->owner_pid == getpid())
        pid = spawn_owned(t, &rq);
    else
        pid = spawn_detached(t, &rq, t->keeper_pid);
    if (pid < 0)
        return -1;
    p->pid = pid;
    p->state = TOPO_ALIVE;
    p->dirty = 1;
    if (proc_wait_ready(t, kind, i) == 0 &&
        (kind == KIND_NODE || sentinel_apply_timing(t, i) == 0))
        return 0;
    proc_kill(t, p);
    return -1;
}

/* First start of a node: on failure (most likely the port was taken
 * between picking and binding) try again on a new port. */
static int node_start_fresh(topo_t *t, int i, int master_port)
{
    int attempt;

    for (attempt = 0; attempt < LAUNCH_ATTEMPTS; attempt++) {
        if (attempt > 0 && port_repick(t, &t->nodes[i]) != 0)
            return -1;
        if (node_write_config(t, i, master_port) != 0)
            return -1;
        if (proc_launch(t, KIND_NODE, i) == 0)
            return 0;
    }
    return -1;
}

/* Restart on the same port: the port may be briefly taken, so retry. */
static int proc_start_again(topo_t *t, enum proc_kind kind, int i)
{
    int attempt;

    for (attempt = 0; attempt < LAUNCH_ATTEMPTS; attempt++) {
        if (attempt > 0)
            sleep_ms(250);
        if (proc_launch(t, kind, i) == 0)
            return 0;
    }
    return -1;
}

/* ======================================================================
 * Waits: every loop is bounded by a deadline and a poll count
 * ====================================================================== */

/* 1 done, 0 not yet, -1 give up (err set). */
typedef int (*topo_check_fn)(topo_t *t, void *arg);

static int wait_until(topo_t *t, int timeout_ms, topo_check_fn check, void *arg, const char *what)
{
    long long start = now_ms(), deadline = start + timeout_ms;
    int polls, r;

    t->err[0] = '\0';
    for (polls = 0; polls <= timeout_ms / POLL_INTERVAL_MS + 1; polls++) {
        r = check(t, arg);
        if (r != 0)
            return r > 0 ? 0 : -1;
        if (now_ms() >= deadline)
            break;
        sleep_ms(POLL_INTERVAL_MS);
    }
    wrap_err(t, "timed out after %lld ms waiting for %s (state in %s)", now_ms() - start, what,
             t->dir);
    return -1;
}

static int check_replicas_linked(topo_t *t, void *arg)
{
    int i;

    (void)arg;
    for (i = 1; i < t->nnodes; i++)
        if (!replica_linked(t, i, t->nodes[0].port))
            return 0;
    return 1;
}

struct sync_goal {
    int exact; /* at start: all sentinels know and reach each other, settled */
};

static int check_synced(topo_t *t, void *arg)
{
    const struct sync_goal *goal = arg;
    int m, i, s;

    if (goal->exact && now_ms() - t->sentinels_started_ms < SENTINEL_SETTLE_MS) {
        set_err(t, "sentinels started less than %d ms ago", SENTINEL_SETTLE_MS);
        return 0;
    }
    m = topo_master_index(t);
    if (m < 0)
        return 0;
    for (i = 0; i < t->nnodes; i++)
        if (i != m && t->nodes[i].state == TOPO_ALIVE && !replica_linked(t, i, t->nodes[m].port))
            return 0;
    for (s = 0; s < t->nsentinels; s++)
        if (t->sentinels[s].state == TOPO_ALIVE && !sentinel_sees(t, s, m, goal->exact))
            return 0;
    return 1;
}

struct switch_goal {
    int old_port;
    int new_port;
};

static int check_switched(topo_t *t, void *arg)
{
    struct switch_goal *goal = arg;
    int s, p, port = -1, live = 0, i;

    for (s = 0; s < t->nsentinels; s++) {
        if (t->sentinels[s].state != TOPO_ALIVE)
            continue;
        live++;
        p = topo_sentinel_master_port(t, s);
        if (p < 0)
            return 0;
        if (p == goal->old_port || (port >= 0 && p != port)) {
            set_err(t, "sentinel %d still reports port %d", s, p);
            return 0;
        }
        port = p;
    }
    if (live == 0) {
        set_err(t, "no live sentinel");
        return -1;
    }
    i = node_index_by_port(t, port);
    if (i < 0 || node_is_master(t, i) != 1) {
        set_err(t, "port %d does not answer ROLE master yet", port);
        return 0;
    }
    goal->new_port = port;
    return 1;
}

/* ======================================================================
 * Public API: lifecycle
 * ====================================================================== */

static int options_apply(topo_t *t, const topo_options *opt)
{
    static const topo_options defaults;

    if (opt == NULL)
        opt = &defaults;
    t->nnodes = 1 + (opt->replicas == 0 ? 2 : opt->replicas < 0 ? 0 : opt->replicas);
    t->nsentinels = opt->sentinels == 0 ? 3 : opt->sentinels;
    t->down_after_ms = opt->down_after_ms > 0 ? opt->down_after_ms : 1000;
    t->failover_timeout_ms = opt->failover_timeout_ms > 0 ? opt->failover_timeout_ms : 10000;
    t->info_period_ms = opt->sentinel_info_period_ms > 0 ? opt->sentinel_info_period_ms : 0;
    t->acl_no_subscribe = opt->sentinel_acl_no_subscribe != 0;
    if (t->nnodes > TOPO_MAX_NODES || t->nsentinels < 1 || t->nsentinels > TOPO_MAX_SENTINELS) {
        set_err(t, "replicas must be at most %d, sentinels 1..%d", TOPO_MAX_NODES - 1,
                TOPO_MAX_SENTINELS);
        return -1;
    }
    if ((opt->data_acl_user == NULL) != (opt->data_acl_password == NULL)) {
        set_err(t, "data_acl_user and data_acl_password go together");
        return -1;
    }
    if (copy_value(t, t->master_name, opt->master_name ? opt->master_name : "mymaster",
                   "master_name") != 0 ||
        copy_value(t, t->sentinel_password, opt->sentinel_password, "sentinel_password") != 0 ||
        copy_value(t, t->data_password, opt->data_password, "data_password") != 0 ||
        copy_value(t, t->data_acl_user, opt->data_acl_user, "data_acl_user") != 0 ||
        copy_value(t, t->data_acl_password, opt->data_acl_password, "data_acl_password") != 0)
        return -1;
    return 0;
}

static void sentinel_list_build(topo_t *t)
{
    size_t off = 0;
    int i;

    t->sentinel_list[0] = '\0';
    for (i = 0; i < t->nsentinels; i++)
        off += (size_t)snprintf(t->sentinel_list + off, sizeof t->sentinel_list - off,
                                "%s127.0.0.1:%d", i ? "," : "", t->sentinels[i].port);
}

static int sentinel_ids_generate(topo_t *t)
{
    unsigned char raw[20];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC), i, k;

    if (fd < 0) {
        set_err(t, "/dev/urandom: %s", strerror(errno));
        return -1;
    }
    for (i = 0; i < t->nsentinels; i++) {
        if (read_full(fd, raw, sizeof raw) != sizeof raw) {
            set_err(t, "reading /dev/urandom failed");
            close(fd);
            return -1;
        }
        for (k = 0; k < (int)sizeof raw; k++)
            snprintf(t->sentinel_ids[i] + 2 * k, 3, "%02x", raw[k]);
    }
    close(fd);
    return 0;
}

/* The sentinels name each other's ports in their configs, so a port that
 * turns out to be taken means all of them start again on new ports. */
static int sentinels_launch(topo_t *t)
{
    struct topo_proc *procs[TOPO_MAX_SENTINELS];
    int attempt, i, ok = 0;

    for (i = 0; i < t->nsentinels; i++)
        procs[i] = &t->sentinels[i];
    if (sentinel_ids_generate(t) != 0)
        return -1;
    for (attempt = 0; !ok && attempt < LAUNCH_ATTEMPTS; attempt++) {
        if (attempt > 0) {
            for (i = 0; i < t->nsentinels; i++)
                proc_kill(t, &t->sentinels[i]);
            if (ports_pick(t, procs, t->nsentinels) != 0)
                return -1;
        }
        for (i = 0; i < t->nsentinels; i++)
            if (sentinel_write_config(t, i, t->nodes[0].port) != 0)
                return -1;
        for (ok = 1, i = 0; ok && i < t->nsentinels; i++)
            ok = proc_launch(t, KIND_SENTINEL, i) == 0;
    }
    t->sentinels_started_ms = now_ms();
    return ok ? 0 : -1;
}

static int topo_launch_all(topo_t *t)
{
    struct topo_proc *procs[TOPO_MAX_NODES + TOPO_MAX_SENTINELS];
    long long start = now_ms();
    struct sync_goal exact = { 1 };
    int i, n = 0, left;

    for (i = 0; i < t->nnodes; i++)
        procs[n++] = &t->nodes[i];
    for (i = 0; i < t->nsentinels; i++)
        procs[n++] = &t->sentinels[i];
    if (ports_pick(t, procs, n) != 0)
        return -1;
    for (i = 0; i < t->nnodes; i++)
        if (node_start_fresh(t, i, i == 0 ? 0 : t->nodes[0].port) != 0)
            return -1;
    /* Sentinels learn replicas from the master's INFO, which they re-read
     * only every 10 s: start them once the replicas are attached. */
    if (wait_until(t, START_TIMEOUT_MS, check_replicas_linked, NULL, "replicas to sync") != 0)
        return -1;
    if (sentinels_launch(t) != 0)
        return -1;
    sentinel_list_build(t);
    if (state_save(t) != 0)
        return -1;
    left = START_TIMEOUT_MS - (int)(now_ms() - start);
    if (wait_until(t, left > 0 ? left : 1, check_synced, &exact,
                   "sentinels to settle and see the replicas") != 0)
        return -1;
    return 0;
}

topo_t *topo_start(const topo_options *opt, char *err, size_t errlen)
{
    topo_t *t = calloc(1, sizeof *t);

    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->owner_pid = t->keeper_pid = getpid();
    t->keep_dir = env_flag("SENTINEL_TOPOLOGY_KEEP");
    registry_add(t);
    if (options_apply(t, opt) != 0 || dir_create(t) != 0 || topo_launch_all(t) != 0)
        goto fail;
    return t;
fail:
    if (t->keep_dir && t->dir[0])
        snprintf(err, errlen, "%s (kept %s)", t->err, t->dir);
    else
        snprintf(err, errlen, "%s", t->err);
    topo_stop(t);
    return NULL;
}

/* Every pid to kill: ours, plus any the state file has that we do not
 * (restarted by `ctl`). */
static void topo_kill_everything(topo_t *t)
{
    topo_t *file = t->dir[0] ? state_load_copy(t) : NULL;
    int i;

    for (i = 0; i < t->nnodes; i++)
        proc_kill(t, &t->nodes[i]);
    for (i = 0; i < t->nsentinels; i++)
        proc_kill(t, &t->sentinels[i]);
    if (file == NULL)
        return;
    for (i = 0; i < file->nnodes; i++)
        if (file->nodes[i].pid != t->nodes[i].pid)
            proc_kill(t, &file->nodes[i]);
    for (i = 0; i < file->nsentinels; i++)
        if (file->sentinels[i].pid != t->sentinels[i].pid)
            proc_kill(t, &file->sentinels[i]);
    free(file);
}

void topo_stop(topo_t *t)
{
    if (t == NULL)
        return;
    registry_remove(t);
    topo_kill_everything(t);
    if (t->dir[0] != '\0') {
        if (t->keep_dir)
            fprintf(stderr, "sentinel-topology: kept %s\n", t->dir);
        else
            dir_remove(t->dir);
    }
    free(t);
}

topo_t *topo_attach(const char *dir, char *err, size_t errlen)
{
    topo_t *t = calloc(1, sizeof *t);
    int fd;

    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (realpath(dir, t->dir) == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    t->keep_dir = env_flag("SENTINEL_TOPOLOGY_KEEP");
    fd = state_lock(t);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot lock: %s", t->dir, strerror(errno));
        goto fail;
    }
    if (state_read(t) != 0) {
        snprintf(err, errlen, "%s", t->err);
        state_unlock(fd);
        goto fail;
    }
    state_unlock(fd);
    sentinel_list_build(t);
    return t;
fail:
    free(t);
    return NULL;
}

void topo_detach(topo_t *t)
{
    if (t == NULL)
        return;
    registry_remove(t);
    state_save(t);
    free(t);
}

const char *topo_errstr(const topo_t *t)
{
    return t != NULL ? t->err : "no topology";
}

/* ======================================================================
 * Public API: description
 * ====================================================================== */

const char *topo_master_name(const topo_t *t) { return t->master_name; }
const char *topo_dir(const topo_t *t) { return t->dir; }
int topo_node_count(const topo_t *t) { return t->nnodes; }
int topo_sentinel_count(const topo_t *t) { return t->nsentinels; }
const char *topo_sentinel_list(const topo_t *t) { return t->sentinel_list; }

const char *topo_sentinel_password(const topo_t *t)
{
    return t->sentinel_password[0] ? t->sentinel_password : NULL;
}

const char *topo_data_password(const topo_t *t)
{
    return t->data_password[0] ? t->data_password : NULL;
}

static const struct topo_proc *proc_at_const(const topo_t *t, enum proc_kind kind, int i)
{
    return proc_at((topo_t *)t, kind, i);
}

int topo_node_port(const topo_t *t, int i)
{
    const struct topo_proc *p = proc_at_const(t, KIND_NODE, i);

    return p ? p->port : -1;
}

int topo_sentinel_port(const topo_t *t, int i)
{
    const struct topo_proc *p = proc_at_const(t, KIND_SENTINEL, i);

    return p ? p->port : -1;
}

int topo_node_pid(const topo_t *t, int i)
{
    const struct topo_proc *p = proc_at_const(t, KIND_NODE, i);

    return p && p->state != TOPO_DEAD ? (int)p->pid : -1;
}

int topo_sentinel_pid(const topo_t *t, int i)
{
    const struct topo_proc *p = proc_at_const(t, KIND_SENTINEL, i);

    return p && p->state != TOPO_DEAD ? (int)p->pid : -1;
}

int topo_node_state(const topo_t *t, int i)
{
    const struct topo_proc *p = proc_at_const(t, KIND_NODE, i);

    return p ? p->state : -1;
}

int topo_sentinel_state(const topo_t *t, int i)
{
    const struct topo_proc *p = proc_at_const(t, KIND_SENTINEL, i);

    return p ? p->state : -1;
}

/* ======================================================================
 * Public API: queries
 * ====================================================================== */

static redisContext *proc_connect(topo_t *t, enum proc_kind kind, int i)
{
    struct topo_proc *p = proc_at(t, kind, i);

    if (p == NULL || p->state != TOPO_ALIVE) {
        set_err(t, "%s %d is not running", kind_name(kind), i);
        return NULL;
    }
    return conn_open(t, p->port, proc_password(t, kind));
}

redisContext *topo_node_connect(topo_t *t, int i)
{
    return proc_connect(t, KIND_NODE, i);
}

redisContext *topo_sentinel_connect(topo_t *t, int i)
{
    return proc_connect(t, KIND_SENTINEL, i);
}

int topo_sentinel_master_port(topo_t *t, int sentinel_i)
{
    redisReply *r = proc_command(t, KIND_SENTINEL, sentinel_i, "SENTINEL get-master-addr-by-name %s",
                                 t->master_name);
    int port = -1;

    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING)
        port = atoi(r->element[1]->str);
    else if (r != NULL)
        set_err(t, "sentinel %d does not know master %s", sentinel_i, t->master_name);
    freeReplyObject(r);
    return port;
}

/* Without sentinels: the one live node whose ROLE says master. */
static int master_by_role_only(topo_t *t)
{
    int i, found = -1, masters = 0;

    for (i = 0; i < t->nnodes; i++) {
        if (t->nodes[i].state == TOPO_ALIVE && node_is_master(t, i) == 1) {
            found = i;
            masters++;
        }
    }
    if (masters != 1) {
        set_err(t, "no sentinel answers and %d nodes claim to be master", masters);
        return -1;
    }
    return found;
}

int topo_master_index(topo_t *t)
{
    int s, p, reported = -1, i;

    for (s = 0; s < t->nsentinels; s++) {
        if (t->sentinels[s].state != TOPO_ALIVE || (p = topo_sentinel_master_port(t, s)) < 0)
            continue;
        if (reported >= 0 && p != reported) {
            set_err(t, "sentinels disagree: ports %d and %d", reported, p);
            return -1;
        }
        reported = p;
    }
    if (reported < 0)
        return master_by_role_only(t);
    i = node_index_by_port(t, reported);
    if (i < 0) {
        set_err(t, "sentinels report port %d, not a node of this topology", reported);
        return -1;
    }
    if (node_is_master(t, i) != 1) {
        if (t->nodes[i].state == TOPO_ALIVE)
            set_err(t, "sentinels report node %d (port %d), which is not a master", i, reported);
        return -1;
    }
    return i;
}

int topo_master_port(topo_t *t)
{
    int i = topo_master_index(t);

    return i < 0 ? -1 : t->nodes[i].port;
}

int topo_wait_synced(topo_t *t, int timeout_ms)
{
    struct sync_goal goal = { 0 };

    return wait_until(t, timeout_ms, check_synced, &goal, "replicas and sentinels in sync");
}

int topo_wait_switch(topo_t *t, int old_port, int timeout_ms)
{
    struct switch_goal goal = { old_port, -1 };

    if (wait_until(t, timeout_ms, check_switched, &goal, "sentinels to switch master") != 0)
        return -1;
    return goal.new_port;
}

static int sentinel_info_field(topo_t *t, int i, const char *section, const char *field,
                               char *out, size_t outlen)
{
    redisReply *r = proc_command(t, KIND_SENTINEL, i, "INFO %s", section);
    int rc = -1;

    if (r != NULL && r->type == REDIS_REPLY_STRING)
        rc = info_get(r->str, field, out, outlen);
    freeReplyObject(r);
    return rc;
}

int topo_sentinel_info_stat(topo_t *t, int i, const char *field, long long *out)
{
    char val[64];

    if (sentinel_info_field(t, i, "default", field, val, sizeof val) != 0 ||
        parse_ll(val, out) != 0) {
        set_err(t, "sentinel %d: no numeric INFO field %s", i, field);
        return -1;
    }
    return 0;
}

/* ======================================================================
 * Public API: faults
 * ====================================================================== */

static struct topo_proc *proc_for_fault(topo_t *t, enum proc_kind kind, int i, int want_state)
{
    struct topo_proc *p;

    if (t->owner_pid != getpid())
        state_refresh(t);
    p = proc_at(t, kind, i);
    if (p == NULL) {
        set_err(t, "no %s %d", kind_name(kind), i);
        return NULL;
    }
    if (want_state >= 0 && p->state != want_state) {
        set_err(t, "%s %d is %s", kind_name(kind), i,
                p->state == TOPO_DEAD ? "dead" : p->state == TOPO_FROZEN ? "frozen" : "running");
        return NULL;
    }
    return p;
}

/* Kills a running or frozen process (SIGKILL works on stopped ones). */
static int proc_kill_at(topo_t *t, enum proc_kind kind, int i)
{
    struct topo_proc *p = proc_for_fault(t, kind, i, -1);

    if (p == NULL)
        return -1;
    if (p->state == TOPO_DEAD) {
        set_err(t, "%s %d is already dead", kind_name(kind), i);
        return -1;
    }
    if (proc_kill(t, p) != 0)
        return -1;
    return state_save(t);
}

int topo_kill_node(topo_t *t, int i)
{
    return proc_kill_at(t, KIND_NODE, i);
}

int topo_kill_sentinel(topo_t *t, int i)
{
    return proc_kill_at(t, KIND_SENTINEL, i);
}

int topo_kill_all_sentinels(topo_t *t)
{
    int i, rc = 0;

    for (i = 0; i < t->nsentinels; i++)
        if (t->sentinels[i].state != TOPO_DEAD && topo_kill_sentinel(t, i) != 0)
            rc = -1;
    return rc;
}

int topo_freeze_node(topo_t *t, int i)
{
    struct topo_proc *p = proc_for_fault(t, KIND_NODE, i, TOPO_ALIVE);

    if (p == NULL)
        return -1;
    if (kill(p->pid, SIGSTOP) != 0 || pid_wait_stopped(p->pid, 1) != 0) {
        set_err(t, "node %d: SIGSTOP did not take", i);
        return -1;
    }
    p->state = TOPO_FROZEN;
    p->dirty = 1;
    return state_save(t);
}

int topo_thaw_node(topo_t *t, int i)
{
    struct topo_proc *p = proc_for_fault(t, KIND_NODE, i, TOPO_FROZEN);

    if (p == NULL)
        return -1;
    if (kill(p->pid, SIGCONT) != 0 || pid_wait_stopped(p->pid, 0) != 0) {
        set_err(t, "node %d: SIGCONT did not take", i);
        return -1;
    }
    p->state = TOPO_ALIVE;
    p->dirty = 1;
    return state_save(t);
}

int topo_thaw_all(topo_t *t)
{
    int i, rc = 0;

    if (t->owner_pid != getpid())
        state_refresh(t);
    for (i = 0; i < t->nnodes; i++)
        if (t->nodes[i].state == TOPO_FROZEN && topo_thaw_node(t, i) != 0)
            rc = -1;
    return rc;
}

/* Where a restarted node should replicate from: what the sentinels say,
 * else the node ROLE says is master. */
static int current_master_port(topo_t *t)
{
    int s, port;

    for (s = 0; s < t->nsentinels; s++)
        if (t->sentinels[s].state == TOPO_ALIVE && (port = topo_sentinel_master_port(t, s)) > 0)
            return port;
    return topo_master_port(t);
}

int topo_restart_node(topo_t *t, int i)
{
    struct topo_proc *p = proc_for_fault(t, KIND_NODE, i, TOPO_DEAD);
    int master_port;

    if (p == NULL)
        return -1;
    master_port = current_master_port(t);
    if (master_port < 0) {
        wrap_err(t, "restarting node %d: no current master", i);
        return -1;
    }
    if (node_write_config(t, i, master_port == p->port ? 0 : master_port) != 0 ||
        proc_start_again(t, KIND_NODE, i) != 0) {
        state_save(t);
        return -1;
    }
    return state_save(t);
}

int topo_restart_sentinel(topo_t *t, int i)
{
    struct topo_proc *p = proc_for_fault(t, KIND_SENTINEL, i, TOPO_DEAD);

    if (p == NULL)
        return -1;
    if (proc_start_again(t, KIND_SENTINEL, i) != 0) {
        state_save(t);
        return -1;
    }
    return state_save(t);
}

int topo_restart_all_sentinels(topo_t *t)
{
    int i, rc = 0;

    if (t->owner_pid != getpid())
        state_refresh(t);
    for (i = 0; i < t->nsentinels; i++)
        if (t->sentinels[i].state == TOPO_DEAD && topo_restart_sentinel(t, i) != 0)
            rc = -1;
    return rc;
}

int topo_failover(topo_t *t)
{
    redisReply *r;
    int s;

    for (s = 0; s < t->nsentinels; s++) {
        if (t->sentinels[s].state != TOPO_ALIVE)
            continue;
        r = proc_command(t, KIND_SENTINEL, s, "SENTINEL FAILOVER %s", t->master_name);
        if (r != NULL) {
            freeReplyObject(r);
            return 0;
        }
    }
    wrap_err(t, "SENTINEL FAILOVER %s refused by every live sentinel", t->master_name);
    return -1;
}

/* What Sentinel does to a stale master at its next 10 s INFO poll
 * (+convert-to-slave), done now. */
int topo_demote_old_masters(topo_t *t)
{
    int m = topo_master_index(t), i, rc = 0;
    redisReply *r;

    if (m < 0)
        return -1;
    for (i = 0; i < t->nnodes; i++) {
        if (i == m || t->nodes[i].state != TOPO_ALIVE || node_is_master(t, i) != 1)
            continue;
        r = proc_command(t, KIND_NODE, i, "REPLICAOF 127.0.0.1 %d", t->nodes[m].port);
        if (r == NULL)
            rc = -1;
        freeReplyObject(r);
    }
    return rc;
}
