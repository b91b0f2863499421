/*
 * Test harness: a real Redis Sentinel topology on free loopback ports.
 *
 * topo_start() runs one master, N replicas and M sentinels (redis-server and
 * redis-sentinel from PATH, or $REDIS_SERVER / $REDIS_SENTINEL) in a fresh
 * temporary directory under $TMPDIR or /tmp, everything bound to 127.0.0.1
 * on free ports. It returns only when the replicas are in sync, every
 * sentinel reaches the other sentinels and lists the replicas, and the
 * sentinels have run for over a second (Sentinel reconnects at most once a
 * second, so a master killed sooner would be seen down a second late): a
 * fault injected right away fails over as in a long-running deployment.
 * The sentinels' configs name each other from the start (`known-sentinel`,
 * as Sentinel writes itself) rather than waiting ~2 s for hello messages.
 *
 * Cleanup: topo_stop() kills and reaps every process and removes the
 * directory. The processes also die with the thread that started them
 * (PR_SET_PDEATHSIG), and an atexit handler plus SIGINT/SIGTERM handlers
 * (installed only where the disposition is still the default) stop every
 * topology the process still owns. Set SENTINEL_TOPOLOGY_KEEP=1 to keep the
 * directory (logs, configs) for debugging.
 *
 * The topology's state (ports, pids, options) lives in DIR/topology.state and
 * is kept current, so another process can take it over with topo_attach():
 * that is how `sentinel-topology ctl` injects faults into a topology run by
 * `sentinel-topology run`.
 *
 * Not thread-safe: use a topo_t from one thread at a time, and start/stop
 * topologies from one thread.
 */
#ifndef SENTINEL_TEST_TOPOLOGY_H
#define SENTINEL_TEST_TOPOLOGY_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#define TOPO_MAX_NODES 16
#define TOPO_MAX_SENTINELS 9

/* The ACL user that sentinel_acl_no_subscribe adds on every sentinel. */
#define TOPO_LIMITED_USER "limited"
#define TOPO_LIMITED_PASSWORD "limitedpass"

typedef struct topo topo_t;

/* Zero-initialised means defaults. Strings are copied; they must not contain
 * whitespace, quotes, backslashes or control characters. */
typedef struct topo_options {
    int replicas;            /* 0 = default 2; -1 = none */
    int sentinels;           /* 0 = default 3 */
    int down_after_ms;       /* 0 = default 1000 */
    int failover_timeout_ms; /* 0 = default 10000 (sentinel failover-timeout) */
    /* 0 = Sentinel's own 10 s: how often sentinels INFO the data nodes
     * (SENTINEL DEBUG info-period), so how late they demote an old master
     * and refresh their view of replicas. Shorter makes topo_wait_synced()
     * after a manual failover or a thaw fast, but changes the timeline. */
    int sentinel_info_period_ms;
    const char *master_name; /* NULL = "mymaster" */
    /* requirepass on the sentinels (and sentinel-pass between them) */
    const char *sentinel_password;
    /* requirepass + masterauth on the data nodes, auth-pass on the sentinels */
    const char *data_password;
    /* nonzero: every sentinel gets ACL user TOPO_LIMITED_USER that may run
     * what a sentinel client needs (AUTH, HELLO, PING, ROLE, INFO,
     * CLIENT SETNAME, SENTINEL get-master-addr-by-name / sentinels /
     * replicas / slaves / master / masters) but not SUBSCRIBE/PSUBSCRIBE */
    int sentinel_acl_no_subscribe;
    /* optional ACL user (all commands, keys, channels) on the data nodes for
     * clients; the sentinels keep using the default user + data_password */
    const char *data_acl_user, *data_acl_password;
} topo_options;

/* Process state of a node or sentinel. */
enum topo_proc_state {
    TOPO_DEAD = 0,   /* killed (or never started) */
    TOPO_ALIVE = 1,
    TOPO_FROZEN = 2  /* SIGSTOP'ed */
};

/* ---- lifecycle ---------------------------------------------------------- */

/* Starts a topology; NULL opt = defaults. Returns NULL with a message in err
 * on failure (nothing is left running). The caller owns the result: free it
 * with topo_stop(). */
topo_t *topo_start(const topo_options *opt, char *err, size_t errlen);

/* Kills and reaps every process (including ones restarted through `ctl`,
 * read from the state file), removes the directory unless
 * SENTINEL_TOPOLOGY_KEEP=1, frees t. NULL is fine. */
void topo_stop(topo_t *t);

/* Takes over a topology another process started, from DIR/topology.state.
 * Faults then act on its processes by pid; restarted processes are detached
 * (see topo_restart_node()). Free with topo_detach(). */
topo_t *topo_attach(const char *dir, char *err, size_t errlen);

/* Saves the state and frees an attached (or any) handle without stopping
 * anything. NULL is fine. */
void topo_detach(topo_t *t);

/* The message of the last failed call on t (never NULL). */
const char *topo_errstr(const topo_t *t);

/* ---- description -------------------------------------------------------- */

const char *topo_master_name(const topo_t *t);
const char *topo_dir(const topo_t *t);
int topo_node_count(const topo_t *t);          /* 1 + replicas */
int topo_node_port(const topo_t *t, int i);    /* i: 0 = initial master; -1 if out of range */
int topo_node_pid(const topo_t *t, int i);     /* -1 when dead or out of range */
int topo_node_state(const topo_t *t, int i);   /* enum topo_proc_state; -1 out of range */
int topo_sentinel_count(const topo_t *t);
int topo_sentinel_port(const topo_t *t, int i);
int topo_sentinel_pid(const topo_t *t, int i);
int topo_sentinel_state(const topo_t *t, int i);
/* "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3", all sentinels, dead or not */
const char *topo_sentinel_list(const topo_t *t);
/* The password given in the options, or NULL. */
const char *topo_sentinel_password(const topo_t *t);
const char *topo_data_password(const topo_t *t);

/* ---- queries (blocking hiredis, 1 s timeouts; dead and frozen processes
 * are skipped) ----------------------------------------------------------- */

/* An authenticated connection to node i / sentinel i, or NULL. The caller
 * owns it (redisFree()). */
redisContext *topo_node_connect(topo_t *t, int i);
redisContext *topo_sentinel_connect(topo_t *t, int i);

/* The node every answering sentinel reports and that answers ROLE master;
 * with no sentinel answering, the only live node whose ROLE is master.
 * -1 if none, or if the sentinels disagree. */
int topo_master_index(topo_t *t);
int topo_master_port(topo_t *t); /* port of topo_master_index(), or -1 */

/* SENTINEL get-master-addr-by-name from sentinel i; -1 on error. */
int topo_sentinel_master_port(topo_t *t, int sentinel_i);

/* Waits until every live node other than the current master replicates it
 * with master_link_status:up, and every live sentinel reports that master,
 * knows the other live sentinels and lists those replicas as healthy from a
 * fresh INFO (else a manual failover started right away can be undone by a
 * sentinel that still sees a promoted replica as a stale master).
 * 0, or -1 on timeout. After a manual failover or a thaw this takes up to
 * two sentinel info-periods (~20 s by default): the old master stays a
 * master until a sentinel's INFO poll demotes it, and the other sentinels
 * see it as a replica at their next poll. topo_demote_old_masters() saves
 * the first; sentinel_info_period_ms shortens both. */
int topo_wait_synced(topo_t *t, int timeout_ms);

/* Waits until all live sentinels report the same master, other than
 * old_port, and that node answers ROLE master. Returns its port, or -1. */
int topo_wait_switch(topo_t *t, int old_port, int timeout_ms);

/* Reads a numeric field of sentinel i's INFO (default sections: server,
 * clients, stats, cpu, sentinel), e.g. "total_commands_processed". Sentinel
 * 7.0 has no commandstats. The count includes the sentinels' own traffic
 * (they PING each other every second, vote during failovers) and this
 * query's: one connection, AUTH with a password, INFO. 0/-1. */
int topo_sentinel_info_stat(topo_t *t, int i, const char *field, long long *out);

/* ---- faults (DESIGN.md "Failover scenarios"); 0 or -1 ------------------- */

int topo_kill_node(topo_t *t, int i);   /* SIGKILL, and reap */
int topo_freeze_node(topo_t *t, int i); /* SIGSTOP */
int topo_thaw_node(topo_t *t, int i);   /* SIGCONT */
int topo_thaw_all(topo_t *t);           /* SIGCONT every frozen node */
/* Starts a killed node again on its port, empty, as a replica of the
 * current master (as a master if that is itself). On an attached handle the
 * process is detached from the caller: it is adopted by the process that
 * started the topology (a child subreaper), or else by init. */
int topo_restart_node(topo_t *t, int i);
/* Sends REPLICAOF <current master> to every other live node that still
 * claims to be a master: Sentinel's +convert-to-slave, up to 10 s early.
 * Never done implicitly, so tests see the natural demotion window. */
int topo_demote_old_masters(topo_t *t);
/* SENTINEL FAILOVER <name>, on the first live sentinel that accepts it. */
int topo_failover(topo_t *t);
int topo_kill_sentinel(topo_t *t, int i);
/* Starts a killed sentinel again, on its port, with the config it rewrote. */
int topo_restart_sentinel(topo_t *t, int i);
int topo_kill_all_sentinels(topo_t *t);
int topo_restart_all_sentinels(topo_t *t); /* restarts every dead sentinel */

#endif
