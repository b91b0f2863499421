/*
 * diff-fuzz, the faults: one at a time, at seeded times, on the topology
 * started by sentinel-topology (its `ctl` for processes, a direct
 * connection to the master for the rest):
 *
 *   restart     kill -9 the master, restart it within down-after (no
 *               failover); now and then the clients send a long AUTH,
 *               wrong or right (user fzlong, created on every node),
 *               ("authstorm") or AUTH/SELECT ("statestorm") meanwhile (the
 *               proxy queues them for when the master is back)
 *   freeze      SIGSTOP the master for 0.5-2.5 s, then SIGCONT
 *   failover    SENTINEL FAILOVER, until the switch
 *   kill        kill -9 the master and let Sentinel fail over (long)
 *   clientkill  CLIENT KILL some of the proxy's connections on the master
 *   busy        CLIENT KILL some (not the proxy's ROLE check) and, in the
 *               same write, a script that runs 0.8-2.5 s with
 *               busy-reply-threshold 100 ms: the proxy's reconnects
 *               (their SELECT) and the clients' commands get -BUSY
 *   pause       CLIENT PAUSE 0.5-2 s
 *   acl         the ACL user's password is rotated for 1-3 s (with CLIENT
 *               KILL): a reconnect's AUTH is refused
 *   oom         the proxy runs out of memory (oom_shim, --oom-file) while
 *               its clients are mid-pipeline: CLIENT PAUSE WRITE holds the
 *               shared connections' replies for 0.8-2.5 s, the clients
 *               send long rounds a few bytes at a time (their commands
 *               interleave on the shared queues, which grow), allocations
 *               fail at random meanwhile; just before the pause ends (7
 *               in 10) CLIENT KILL some of the proxy's connections
 *               (another shared connection closes while an OOM'd client's
 *               commands are still queued: defect 2)
 *
 * Each fault opens a window (fz_run) in which the model accepts what it
 * explains; the window's end is recorded for the liveness bound.
 */
#define _GNU_SOURCE
#include "diff_fuzz.h"
#include "oom_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

enum { F_NONE, F_RESTART, F_FREEZE, F_FAILOVER, F_KILL, F_CLIENTKILL, F_BUSY, F_PAUSE, F_ACL,
       F_OOM, F_LAST = F_OOM };

static const char *fault_names[] = { "none", "restart", "freeze", "failover", "kill",
                                     "clientkill", "busy", "pause", "acl", "oom" };
static const int fault_weights[] = { 0, 3, 2, 2, 1, 4, 3, 2, 2, 3 };

static struct {
    fz_rng rng;
    int kind, step, node, port;
    int64_t next_at, step_at;
    pid_t child;
    int child_rc;
    int enabled[F_LAST + 1];
    struct oom_shim_ctl *oom; /* the proxy's oom_shim control file, mapped */
} F;

#define ACL_ROTATED_PASSWORD "diff-fuzz-rotated"

/* ---- processes --------------------------------------------------------------- */

/* ctl ARGS, synchronously (quick actions); its first output line. */
static int ctl_sync(const char *args, char *out, size_t outlen)
{
    char cmd[512];
    FILE *f;
    int rc;

    if (R.ctl == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "'%s' ctl %s 2>&1", R.ctl, args);
    if ((f = popen(cmd, "r")) == NULL)
        return -1;
    if (out) {
        out[0] = '\0';
        if (fgets(out, (int)outlen, f) != NULL)
            out[strcspn(out, "\n")] = '\0';
    }
    while (fgetc(f) != EOF)
        ;
    rc = pclose(f);
    return WIFEXITED(rc) && WEXITSTATUS(rc) == 0 ? 0 : -1;
}

static void spawn(const char *cmd)
{
    pid_t pid = fork();

    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    F.child = pid;
    F.child_rc = -1;
}

/* 1 when the child has ended (its status in child_rc), 0 while it runs. */
static int child_done(void)
{
    int st;

    if (F.child <= 0)
        return 1;
    if (waitpid(F.child, &st, WNOHANG) == 0)
        return 0;
    F.child_rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    F.child = 0;
    return 1;
}

static void spawn_ctl(const char *args)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "'%s' ctl %s", R.ctl, args);
    spawn(cmd);
}

/* ---- the master, directly ------------------------------------------------------ */

int fz_master_port(void)
{
    char out[64];

    if (ctl_sync("master-port", out, sizeof(out)) != 0)
        return -1;
    return atoi(out);
}

static void admin_do(int port, const char *fmt, const char *arg)
{
    fz_conn *ctx = fz_admin(port, 1);
    redisReply *r;

    if (ctx == NULL)
        return;
    r = fz_admin_cmd(ctx, fmt, arg);
    freeReplyObject(r);
    fz_admin_close(ctx);
}

/* CLIENT KILL about half of the connections on the master that are not
 * Sentinel's, a replica's or ours: the proxy's shared and own connections.
 * With pipe, the kills are only appended to that context's output (sent
 * with what follows them, in one write). */
static int kill_proxy_connections(int port, fz_conn *pipe)
{
    fz_conn *ctx = fz_admin(port, 1);
    redisReply *r;
    int killed = 0;

    if (ctx == NULL)
        return 0;
    r = fz_admin_cmd(ctx, "CLIENT LIST TYPE normal");
    if (r && r->type == REDIS_REPLY_STRING) {
        char *save = NULL;
        for (char *line = strtok_r(r->str, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *id = strstr(line, "id="), *name = strstr(line, " name=");
            if (id == NULL || name == NULL || (name[6] != ' ' && name[6] != '\0'))
                continue; /* named: sentinel, redis-cli of ctl, us */
            if (pipe && strstr(line, " cmd=role ") != NULL)
                continue; /* the proxy's ROLE check: it would hold everyone at once */
            if (fz_rnd(&F.rng, 2) && killed > 0)
                continue;
            if (pipe) {
                fz_admin_append(pipe, "CLIENT KILL ID %lld", atoll(id + 3));
            } else {
                redisReply *k = fz_admin_cmd(ctx, "CLIENT KILL ID %lld", atoll(id + 3));
                freeReplyObject(k);
            }
            killed++;
        }
    }
    freeReplyObject(r);
    fz_admin_close(ctx);
    return killed;
}

/* The busy fault: CLIENT KILL some of the proxy's connections and start a
 * script of ms milliseconds in one write, so that the proxy reopens them
 * while the script runs (their AUTH passes, their SELECT gets -BUSY). The
 * replies are read in busy_done(), without blocking the loop. */
static fz_conn *busy_ctx;
static int busy_replies;

static void busy_start(int port, int ms)
{
    char d[16];

    if ((busy_ctx = fz_admin(port, 1)) == NULL)
        return;
    redisReply *r = fz_admin_cmd(busy_ctx, "CONFIG SET busy-reply-threshold 100");
    freeReplyObject(r);
    busy_replies = fz_rnd(&F.rng, 10) < 8 ? kill_proxy_connections(port, busy_ctx) : 0;
    snprintf(d, sizeof(d), "%d", ms);
    fz_admin_append(busy_ctx, "EVAL %s 0 %s",
                       "local s=redis.call('TIME') local d=tonumber(ARGV[1]) "
                       "repeat local n=redis.call('TIME') "
                       "until (n[1]-s[1])*1000000+(n[2]-s[2]) > d*1000", d);
    busy_replies++;
    if (fz_admin_flush(busy_ctx) != 0)
        busy_replies = 0;
}

/* 1 once the script's reply is in (or the connection failed). */
static int busy_done(void)
{
    redisReply *reply;
    int got;

    if (busy_ctx == NULL)
        return 1;
    while (busy_replies > 0 && (got = fz_admin_poll(busy_ctx, &reply)) != 0) {
        if (got < 0) {
            busy_replies = 0;
            break;
        }
        freeReplyObject(reply);
        busy_replies--;
    }
    if (busy_replies > 0)
        return 0;
    fz_admin_close(busy_ctx);
    busy_ctx = NULL;
    return 1;
}

/* ACL SETUSER USER RULES... on every data node (ACLs are not replicated). */
static void acl_setuser(int argc, const char **argv)
{
    const char *ports = getenv("SENTINEL_TEST_NODE_PORTS");
    char list[256], *save = NULL;

    if (ports == NULL)
        return;
    snprintf(list, sizeof(list), "%s", ports);
    for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        fz_conn *ctx = fz_admin(atoi(p), 1);
        if (ctx == NULL)
            continue;
        redisReply *r = fz_admin_argv(ctx, argc, argv, NULL);
        freeReplyObject(r);
        fz_admin_close(ctx);
    }
}

static void acl_password(const char *pw)
{
    char arg[160];
    const char *argv[] = { "ACL", "SETUSER", R.acl_user, "resetpass", arg };

    if (R.acl_user == NULL)
        return;
    snprintf(arg, sizeof(arg), ">%s", pw);
    acl_setuser(5, argv);
}

const char *fz_long_password(void)
{
    static char pw[FZ_LONG_PWLEN + 1];

    if (pw[0] == '\0')
        memset(pw, 'q', FZ_LONG_PWLEN);
    return pw;
}

static void long_user_create(void)
{
    char arg[FZ_LONG_PWLEN + 2];

    const char *argv[] = { "ACL", "SETUSER", FZ_LONG_USER, "on", "~*", "&*", "+@all", arg };

    snprintf(arg, sizeof(arg), ">%s", fz_long_password());
    acl_setuser(8, argv);
}

/* ---- out of memory in the proxy (oom_shim) ------------------------------------- */

static void fault_end(void);
static void after(int64_t d);

static int oom_map(void)
{
    int fd;
    void *m;

    if (R.oom_file == NULL)
        return -1;
    if ((fd = open(R.oom_file, O_RDWR | O_CLOEXEC)) < 0 ||
        ftruncate(fd, sizeof(struct oom_shim_ctl)) != 0) {
        fprintf(stderr, "diff-fuzz: %s: %s\n", R.oom_file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    m = mmap(NULL, sizeof(struct oom_shim_ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return -1;
    F.oom = m;
    F.oom->magic = OOM_SHIM_MAGIC;
    return 0;
}

/* Allocations of at least min_size bytes fail with probability ppm / 1e6
 * (and the first `first` of them for sure) until ms from now. */
static void oom_arm(uint64_t min_size, int64_t first, uint32_t ppm, int64_t ms)
{
    if (F.oom == NULL)
        return;
    __atomic_store_n(&F.oom->armed, 0, __ATOMIC_RELEASE);
    F.oom->min_size = min_size;
    F.oom->fail_next = first;
    F.oom->ppm = ppm;
    F.oom->until_ms = fz_now() + ms;
    __atomic_store_n(&F.oom->armed, 1, __ATOMIC_RELEASE);
}

static void oom_disarm(void)
{
    if (F.oom == NULL)
        return;
    __atomic_store_n(&F.oom->armed, 0, __ATOMIC_RELEASE);
    R.oom_failed = __atomic_load_n(&F.oom->failed, __ATOMIC_RELAXED);
}

static void step_oom(void)
{
    static const uint64_t sizes[] = { 1, 256, 1024, 2048 };
    static int d, kill_after;
    char ms[16];

    switch (F.step) {
    case 0: /* the clients start long pipelines, in pieces */
        if ((F.port = fz_master_port()) <= 0) {
            fault_end();
            return;
        }
        R.oom = 1;
        R.dribble = 1;
        R.delaying = 1;
        after(300);
        return;
    case 1: {
        uint64_t sz = sizes[fz_rnd(&F.rng, 4)];
        uint32_t ppm = 30000 + fz_rnd(&F.rng, 470000);
        d = 800 + (int)fz_rnd(&F.rng, 1700);
        kill_after = fz_rnd(&F.rng, 10) < 7;
        snprintf(ms, sizeof(ms), "%d", d);
        admin_do(F.port, "CLIENT PAUSE %s WRITE", ms);
        oom_arm(sz, fz_rnd(&F.rng, 4), ppm, d);
        printf("diff-fuzz: oom: allocations >= %" PRIu64 " bytes fail at %.1f%% for %d ms\n", sz,
               ppm / 10000.0, d);
        after(d - 150);
        return;
    }
    case 2:
        if (kill_after)
            printf("diff-fuzz: oom: killed %d connections\n",
                   kill_proxy_connections(F.port, NULL));
        after(350);
        return;
    case 3:
        oom_disarm();
        printf("diff-fuzz: oom: %" PRIu64 " allocations failed in the proxy so far\n",
               R.oom_failed);
        fault_end();
        return;
    }
}

/* ---- the schedule ---------------------------------------------------------------- */

void faults_init(void)
{
    int port;

    fz_seed(&F.rng, R.seed, 200000);
    for (int k = F_RESTART; k <= F_LAST; k++) {
        const char *at = strstr(R.faults, fault_names[k]);
        /* "kill" must not match inside "clientkill" */
        while (at && at != R.faults && at[-1] != ',')
            at = strstr(at + 1, fault_names[k]);
        F.enabled[k] = at != NULL && R.ctl != NULL;
    }
    if (R.acl_user == NULL)
        F.enabled[F_ACL] = 0;
    if (F.enabled[F_OOM] && oom_map() != 0)
        F.enabled[F_OOM] = 0;
    F.next_at = R.start + 2000 + fz_rnd(&F.rng, 2000);
    /* The model starts from no keys: a previous run's are gone. */
    if (R.ctl && (port = fz_master_port()) > 0)
        admin_do(port, "FLUSHALL%s", "");
    long_user_create();
}

static void fault_begin(int kind)
{
    F.kind = kind;
    F.step = 0;
    F.step_at = fz_now();
    R.fault_active = 1;
    R.master_away = kind == F_RESTART || kind == F_KILL || kind == F_FREEZE || kind == F_FAILOVER;
    R.fault_name = fault_names[kind];
    R.faults_done++;
    printf("diff-fuzz: %.1fs fault %s\n", (double)(fz_now() - R.start) / 1000.0, R.fault_name);
}

static void fault_end(void)
{
    int64_t now = fz_now();

    printf("diff-fuzz: %.1fs fault %s over\n", (double)(now - R.start) / 1000.0, R.fault_name);
    if (R.lossy)
        R.lossy_until = now + 3000;
    if (R.busy)
        R.busy_until = now + 500;
    if (R.acl_changed)
        R.acl_until = now + 500;
    if (R.oom)
        R.oom_until = now + 500;
    if (R.delaying)
        R.last_delay_end = now;
    if (R.master_away)
        R.master_away_until = now + R.pause_ms + 2000;
    R.lossy = R.busy = R.acl_changed = R.delaying = R.auth_storm = R.oom = R.dribble = 0;
    R.master_away = 0;
    R.fault_active = 0;
    R.last_fault_end = now;
    R.fault_name = NULL;
    F.kind = F_NONE;
    F.next_at = now + 1500 + fz_rnd(&F.rng, 3500);
}

static void pick_fault(void)
{
    int total = 0, r;

    for (int k = F_RESTART; k <= F_LAST; k++)
        total += F.enabled[k] ? fault_weights[k] : 0;
    if (total == 0) {
        F.next_at = INT64_MAX;
        return;
    }
    r = (int)fz_rnd(&F.rng, (uint32_t)total);
    for (int k = F_RESTART; k <= F_LAST; k++) {
        if (!F.enabled[k])
            continue;
        if (r < fault_weights[k]) {
            fault_begin(k);
            return;
        }
        r -= fault_weights[k];
    }
}

/* Wait D ms before the next step. */
static void after(int64_t d)
{
    F.step++;
    F.step_at = fz_now() + d;
}

/* ctl ACTION N on the current master's node N (kept in F.node). */
static int on_master_node(const char *action)
{
    char out[64], args[64];

    if (ctl_sync("master-index", out, sizeof(out)) != 0)
        return -1;
    F.node = atoi(out);
    snprintf(args, sizeof(args), "%s %d", action, F.node);
    return ctl_sync(args, NULL, 0);
}

static int storm_on(const char *name)
{
    return strstr(R.faults, name) != NULL;
}

static void step_restart(int64_t now)
{
    char out[64], args[64];

    switch (F.step) {
    case 0:
        R.lossy = 1;
        model_lossy_all();
        /* the master's port, for wait-switch, while ROLE can still say it */
        F.port = 0;
        if (F.kind == F_KILL && ctl_sync("master-port", out, sizeof(out)) == 0)
            F.port = atoi(out);
        if (on_master_node("kill-node") != 0) {
            fault_end();
            return;
        }
        if (F.kind == F_KILL) {
            F.step = 10;
            return;
        }
        /* The proxy now queues what its clients send for when the master
         * is back: fill that queue with long AUTHs (one shared connection
         * whose preamble is that AUTH), or with AUTH and SELECT (they go
         * to the queue of another (AUTH, db) than the client's own;
         * without requirepass, SELECT 0: to one queue that has no
         * preamble). */
        switch (fz_rnd(&F.rng, 3)) {
        case 0: /* the long AUTH wrong (nobody stays) or right (they do) */
            R.auth_storm = storm_on("authstorm") ? 1 + 2 * (int)fz_rnd(&F.rng, 2) : 0;
            break;
        case 1:
            R.auth_storm = storm_on("statestorm") ? 2 : 0;
            break;
        }
        R.storm_until = now + 5000;
        /* sometimes beyond pause-timeout: held requests get -MASTERDOWN
         * and their shared connections close while the master is away */
        after(R.auth_storm == 3 ? R.pause_ms + fz_rnd(&F.rng, 1500) : 400 + fz_rnd(&F.rng, 4000));
        return;
    case 1:
        R.auth_storm = 0;
        snprintf(args, sizeof(args), "restart-node %d", F.node);
        spawn_ctl(args);
        after(0);
        return;
    case 2:
        if (child_done()) {
            long_user_create(); /* the restarted node has only its configured users */
            fault_end();
        }
        return;
    case 10: /* kill: Sentinel fails over after down-after */
        snprintf(args, sizeof(args), "wait-switch %d 60000", F.port);
        spawn_ctl(args);
        F.step = 11;
        return;
    case 11:
        if (!child_done())
            return;
        snprintf(args, sizeof(args), "restart-node %d", F.node);
        spawn_ctl(args);
        F.step = 2;
        return;
    }
}

static void step_freeze(void)
{
    char args[64];

    switch (F.step) {
    case 0:
        R.delaying = 1;
        if (on_master_node("freeze-node") != 0) {
            fault_end();
            return;
        }
        after(500 + fz_rnd(&F.rng, 2000));
        return;
    case 1:
        snprintf(args, sizeof(args), "thaw %d", F.node);
        ctl_sync(args, NULL, 0);
        fault_end();
        return;
    }
}

static void step_failover(void)
{
    char args[64];

    switch (F.step) {
    case 0:
        if ((F.port = fz_master_port()) <= 0) {
            fault_end();
            return;
        }
        R.lossy = 1;
        model_lossy_all();
        if (ctl_sync("failover", NULL, 0) != 0) {
            fault_end(); /* e.g. no replica in sync yet */
            return;
        }
        snprintf(args, sizeof(args), "wait-switch %d 20000", F.port);
        spawn_ctl(args);
        after(0);
        return;
    case 1:
        if (!child_done())
            return;
        spawn_ctl("demote-old-masters");
        after(0);
        return;
    case 2:
        if (child_done())
            after(1000);
        return;
    case 3:
        fault_end();
        return;
    }
}

static void step_admin(int64_t now)
{
    int port;

    switch (F.step) {
    case 0:
        if ((port = fz_master_port()) <= 0) {
            fault_end();
            return;
        }
        F.port = port;
        if (F.kind == F_CLIENTKILL) {
            printf("diff-fuzz: killed %d connections\n", kill_proxy_connections(port, NULL));
            after(300);
            return;
        }
        if (F.kind == F_PAUSE) {
            char ms[16];
            int d = 500 + (int)fz_rnd(&F.rng, 1500);
            snprintf(ms, sizeof(ms), "%d", d);
            R.delaying = 1;
            admin_do(port, "CLIENT PAUSE %s", ms);
            after(d + 200);
            return;
        }
        if (F.kind == F_ACL) {
            R.acl_changed = 1;
            acl_password(ACL_ROTATED_PASSWORD);
            if (fz_rnd(&F.rng, 10) < 7)
                kill_proxy_connections(port, NULL);
            after(1000 + fz_rnd(&F.rng, 2000));
            return;
        }
        /* busy */
        R.busy = 1;
        R.delaying = 1;
        busy_start(port, 800 + (int)fz_rnd(&F.rng, 1700));
        after(0);
        return;
    case 1:
        if (F.kind == F_BUSY && !busy_done())
            return;
        if (F.kind == F_ACL)
            acl_password(R.acl_password);
        (void)now;
        fault_end();
        return;
    }
}

void faults_step(void)
{
    int64_t now = fz_now();

    if (F.kind == F_NONE) {
        if (now >= F.next_at && now < R.end - 8000)
            pick_fault();
        if (F.kind == F_NONE)
            return;
    }
    if (now < F.step_at)
        return;
    switch (F.kind) {
    case F_RESTART:
    case F_KILL:
        step_restart(now);
        break;
    case F_FREEZE:
        step_freeze();
        break;
    case F_FAILOVER:
        step_failover();
        break;
    case F_OOM:
        step_oom();
        break;
    default:
        step_admin(now);
        break;
    }
}

/* Finish the fault under way at once (bounded): the topology is whole
 * again for the drain and the final scan. */
void faults_stop(void)
{
    int64_t deadline = fz_now() + 60000;

    while (F.kind != F_NONE && fz_now() < deadline) {
        F.step_at = 0;
        faults_step();
        usleep(20000);
    }
    if (F.child > 0) {
        kill(F.child, SIGKILL);
        waitpid(F.child, NULL, 0);
        F.child = 0;
    }
    oom_disarm();
    if (R.ctl)
        ctl_sync("thaw-all", NULL, 0);
}

/* Every client key lives in the database its name says. */
int faults_end_scan(void)
{
    int port = R.ctl ? fz_master_port() : -1;
    fz_conn *ctx;
    int bad = 0;
    long keys = 0;

    if (port <= 0)
        return 0; /* no topology to ask: nothing to scan */
    if ((ctx = fz_admin(port, 0)) == NULL)
        return -1;
    for (int db = 0; db < 16 && !bad; db++) {
        redisReply *r = fz_admin_cmd(ctx, "SELECT %d", db);
        char cursor[32] = "0";
        freeReplyObject(r);
        for (int rounds = 0; rounds < 10000 && !bad; rounds++) {
            r = fz_admin_cmd(ctx, "SCAN %s MATCH fz:* COUNT 1000", cursor);
            if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
                freeReplyObject(r);
                break;
            }
            snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
            for (size_t i = 0; i < r->element[1]->elements; i++) {
                const char *k = r->element[1]->element[i]->str;
                int id, kdb;
                keys++;
                if (sscanf(k, "fz:%d:%d:", &id, &kdb) == 2 && kdb != db) {
                    fz_fail(id >= 0 && id < R.clients ? &fz_clients[id] : NULL,
                            "key %s (written in db %d) found in db %d", k, kdb, db);
                    bad = 1;
                    break;
                }
            }
            freeReplyObject(r);
            if (strcmp(cursor, "0") == 0)
                break;
        }
    }
    fz_admin_close(ctx);
    if (!bad)
        printf("diff-fuzz: final scan: %ld client keys, each in its own database\n", keys);
    return bad ? -1 : 0;
}
