/*
 * sentinel-topology: a real Redis Sentinel topology for shell scripts, PHP
 * tests and benchmarks.
 *
 *   run   starts a topology, runs a command with its description in the
 *         environment, stops the topology, exits with the command's status
 *   start starts a topology, prints the environment as `export` lines and
 *         stays up until SIGINT/SIGTERM
 *   ctl   injects faults into a running topology, found by its directory
 */
#define _GNU_SOURCE

#include "topology.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_TOPOLOGY 3 /* could not start or attach to the topology */
#define DEFAULT_WAIT_MS 30000

static const char usage_text[] =
    "usage:\n"
    "  sentinel-topology run [OPTIONS] -- CMD [ARGS...]\n"
    "  sentinel-topology start [OPTIONS]\n"
    "  sentinel-topology ctl [--dir DIR] ACTION [ARGS...]\n"
    "  sentinel-topology --help\n"
    "\n"
    "OPTIONS (run, start):\n"
    "  --replicas N            replicas of the master (default 2; 0 = none)\n"
    "  --sentinels N           sentinels (default 3), quorum N/2+1\n"
    "  --down-after MS         down-after-milliseconds (default 1000)\n"
    "  --failover-timeout MS   failover-timeout (default 10000)\n"
    "  --info-period MS        SENTINEL DEBUG info-period (default Sentinel's 10000);\n"
    "                          shorter = faster demotion of old masters and wait-synced\n"
    "  --master-name NAME      (default mymaster)\n"
    "  --sentinel-password P   requirepass on the sentinels\n"
    "  --data-password P       requirepass/masterauth on the data nodes\n"
    "  --data-acl-user U --data-acl-password P\n"
    "                          an extra ACL user on the data nodes\n"
    "  --acl-no-subscribe      sentinel ACL user " TOPO_LIMITED_USER "/" TOPO_LIMITED_PASSWORD
    " without SUBSCRIBE/PSUBSCRIBE\n"
    "\n"
    "run exports to CMD: SENTINEL_TEST_SENTINELS (host:port,...), SENTINEL_TEST_MASTER_NAME,\n"
    "SENTINEL_TEST_MASTER_PORT, SENTINEL_TEST_NODE_PORTS, SENTINEL_TEST_SENTINEL_PORTS,\n"
    "SENTINEL_TEST_DIR, SENTINEL_TOPOLOGY_CTL (this program), and when set\n"
    "SENTINEL_TEST_SENTINEL_PASSWORD, SENTINEL_TEST_DATA_PASSWORD. It exits with CMD's\n"
    "status (128+N if killed by signal N), 2 on bad usage, 3 if the topology fails.\n"
    "\n"
    "ctl (DIR defaults to $SENTINEL_TEST_DIR; nodes and sentinels by index from 0):\n"
    "  master-port | master-index     the current master (sentinels + ROLE)\n"
    "  kill-master | freeze-master    prints the affected node's port\n"
    "  kill-node N | freeze-node N | thaw N | thaw-all | restart-node N\n"
    "  failover                       SENTINEL FAILOVER\n"
    "  demote-old-masters             REPLICAOF the current master on stale masters, now\n"
    "                                 rather than at Sentinel's next INFO poll (~10 s)\n"
    "  kill-sentinel N | restart-sentinel N | kill-all-sentinels | restart-all-sentinels\n"
    "  wait-switch OLDPORT [TIMEOUT_MS]   prints the new master port\n"
    "  wait-synced [TIMEOUT_MS]\n"
    "  sentinel-stat N FIELD          a numeric INFO field, e.g. total_commands_processed\n"
    "ctl exits 0 on success, 1 if the action failed, 2 on bad usage, 3 if DIR is unusable.\n"
    "\n"
    "Environment: REDIS_SERVER, REDIS_SENTINEL (binaries), SENTINEL_TOPOLOGY_KEEP=1 keeps\n"
    "the state directory.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "sentinel-topology: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\ntry 'sentinel-topology --help'\n");
    return EXIT_USAGE;
}

static int parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* ======================================================================
 * Options of run and start
 * ====================================================================== */

enum { OPT_REPLICAS = 1, OPT_SENTINELS, OPT_DOWN_AFTER, OPT_FAILOVER_TIMEOUT, OPT_MASTER_NAME,
       OPT_SENTINEL_PASSWORD, OPT_DATA_PASSWORD, OPT_DATA_ACL_USER, OPT_DATA_ACL_PASSWORD,
       OPT_ACL_NO_SUBSCRIBE, OPT_INFO_PERIOD };

static const struct option topo_long_options[] = {
    { "replicas", required_argument, NULL, OPT_REPLICAS },
    { "sentinels", required_argument, NULL, OPT_SENTINELS },
    { "down-after", required_argument, NULL, OPT_DOWN_AFTER },
    { "failover-timeout", required_argument, NULL, OPT_FAILOVER_TIMEOUT },
    { "master-name", required_argument, NULL, OPT_MASTER_NAME },
    { "sentinel-password", required_argument, NULL, OPT_SENTINEL_PASSWORD },
    { "data-password", required_argument, NULL, OPT_DATA_PASSWORD },
    { "data-acl-user", required_argument, NULL, OPT_DATA_ACL_USER },
    { "data-acl-password", required_argument, NULL, OPT_DATA_ACL_PASSWORD },
    { "acl-no-subscribe", no_argument, NULL, OPT_ACL_NO_SUBSCRIBE },
    { "info-period", required_argument, NULL, OPT_INFO_PERIOD },
    { NULL, 0, NULL, 0 },
};

static int set_count(const char *arg, int max, int *out)
{
    int n;

    if (parse_int(arg, 0, max, &n) != 0)
        return -1;
    *out = n;
    return 0;
}

static int apply_option(int opt, const char *arg, topo_options *o)
{
    int n;

    switch (opt) {
    case OPT_REPLICAS:
        if (set_count(arg, TOPO_MAX_NODES - 1, &n) != 0)
            return -1;
        o->replicas = n == 0 ? -1 : n;
        return 0;
    case OPT_SENTINELS:
        return parse_int(arg, 1, TOPO_MAX_SENTINELS, &o->sentinels);
    case OPT_DOWN_AFTER:
        return parse_int(arg, 1, 3600000, &o->down_after_ms);
    case OPT_FAILOVER_TIMEOUT:
        return parse_int(arg, 1, 3600000, &o->failover_timeout_ms);
    case OPT_MASTER_NAME:
        o->master_name = arg;
        return 0;
    case OPT_SENTINEL_PASSWORD:
        o->sentinel_password = arg;
        return 0;
    case OPT_DATA_PASSWORD:
        o->data_password = arg;
        return 0;
    case OPT_DATA_ACL_USER:
        o->data_acl_user = arg;
        return 0;
    case OPT_DATA_ACL_PASSWORD:
        o->data_acl_password = arg;
        return 0;
    case OPT_ACL_NO_SUBSCRIBE:
        o->sentinel_acl_no_subscribe = 1;
        return 0;
    case OPT_INFO_PERIOD:
        return parse_int(arg, 1, 3600000, &o->sentinel_info_period_ms);
    default:
        return -1;
    }
}

/* Parses OPTIONS; *next is the index of the first argument after them. */
static int parse_topo_options(int argc, char **argv, topo_options *o, int *next)
{
    int opt;

    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    /* "+": stop at the first non-option, so CMD's own options stay its. */
    while ((opt = getopt_long(argc, argv, "+", topo_long_options, NULL)) != -1) {
        if (opt == '?' || opt == ':')
            return usage_error("bad option '%s'", argv[optind - 1]);
        if (apply_option(opt, optarg, o) != 0)
            return usage_error("bad value '%s'", optarg);
    }
    *next = optind;
    return 0;
}

/* ======================================================================
 * Environment for the command
 * ====================================================================== */

static void join_ports(char *buf, size_t len, const topo_t *t, int sentinels)
{
    int i, n = sentinels ? topo_sentinel_count(t) : topo_node_count(t);
    size_t off = 0;

    buf[0] = '\0';
    for (i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? "," : "",
                                sentinels ? topo_sentinel_port(t, i) : topo_node_port(t, i));
}

struct env_var {
    const char *name;
    char value[PATH_MAX];
};

enum { ENV_MAX = 10 };

/* The description of t as environment variables; returns how many. */
static int topo_env(const topo_t *t, struct env_var *env)
{
    int n = 0;

    env[n].name = "SENTINEL_TEST_SENTINELS";
    snprintf(env[n++].value, PATH_MAX, "%s", topo_sentinel_list(t));
    env[n].name = "SENTINEL_TEST_MASTER_NAME";
    snprintf(env[n++].value, PATH_MAX, "%s", topo_master_name(t));
    env[n].name = "SENTINEL_TEST_MASTER_PORT";
    snprintf(env[n++].value, PATH_MAX, "%d", topo_node_port(t, 0));
    env[n].name = "SENTINEL_TEST_NODE_PORTS";
    join_ports(env[n++].value, PATH_MAX, t, 0);
    env[n].name = "SENTINEL_TEST_SENTINEL_PORTS";
    join_ports(env[n++].value, PATH_MAX, t, 1);
    env[n].name = "SENTINEL_TEST_DIR";
    snprintf(env[n++].value, PATH_MAX, "%s", topo_dir(t));
    env[n].name = "SENTINEL_TOPOLOGY_CTL";
    if (realpath("/proc/self/exe", env[n].value) != NULL)
        n++;
    if (topo_sentinel_password(t) != NULL) {
        env[n].name = "SENTINEL_TEST_SENTINEL_PASSWORD";
        snprintf(env[n++].value, PATH_MAX, "%s", topo_sentinel_password(t));
    }
    if (topo_data_password(t) != NULL) {
        env[n].name = "SENTINEL_TEST_DATA_PASSWORD";
        snprintf(env[n++].value, PATH_MAX, "%s", topo_data_password(t));
    }
    return n;
}

static int export_env(const topo_t *t)
{
    struct env_var env[ENV_MAX];
    int i, n = topo_env(t, env);

    for (i = 0; i < n; i++)
        if (setenv(env[i].name, env[i].value, 1) != 0)
            return -1;
    return 0;
}

/* Values never contain single quotes (the harness rejects quotes). */
static void print_exports(const topo_t *t)
{
    struct env_var env[ENV_MAX];
    int i, n = topo_env(t, env);

    for (i = 0; i < n; i++)
        printf("export %s='%s'\n", env[i].name, env[i].value);
    fflush(stdout);
}

/* ======================================================================
 * run and start
 * ====================================================================== */

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t pending_signal;

/* A terminal's ^C already reached the command (same process group); only
 * forward what was sent to us alone. */
static void forward_signal(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    if (info != NULL && info->si_code == SI_KERNEL)
        return;
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
    else
        pending_signal = sig;
}

static void note_signal(int sig)
{
    pending_signal = sig;
}

static void install_handlers(int forward)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (forward) {
        sa.sa_sigaction = forward_signal;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = note_signal;
    }
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* Processes `ctl` restarts are double-forked; as subreaper we adopt them,
 * so they die with us (their PDEATHSIG is tied to us) and we reap them. */
static void become_subreaper(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        perror("sentinel-topology: PR_SET_CHILD_SUBREAPER");
}

static void reap_orphans(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static pid_t spawn_command(char **cmd)
{
    pid_t parent = getpid(), pid = fork();
    sigset_t none;

    if (pid != 0)
        return pid;
    /* If we are killed, the topology dies with us: so should the command. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(128 + SIGTERM);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(cmd[0], cmd);
    fprintf(stderr, "sentinel-topology: %s: %s\n", cmd[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

static int wait_command(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return 127;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

static topo_t *start_topology(const topo_options *opt, int *rc)
{
    char err[1024];
    topo_t *t;

    become_subreaper();
    t = topo_start(opt, err, sizeof err);
    if (t == NULL) {
        fprintf(stderr, "sentinel-topology: %s\n", err);
        *rc = EXIT_TOPOLOGY;
    }
    return t;
}

static int cmd_run(int argc, char **argv)
{
    topo_options opt;
    int next, rc;
    topo_t *t;
    pid_t pid;

    rc = parse_topo_options(argc, argv, &opt, &next);
    if (rc != 0)
        return rc;
    if (next >= argc || strcmp(argv[next - 1], "--") != 0)
        return usage_error("%s", "run needs '-- CMD [ARGS...]'");
    t = start_topology(&opt, &rc);
    if (t == NULL)
        return rc;
    if (export_env(t) != 0) {
        perror("sentinel-topology: setenv");
        topo_stop(t);
        return EXIT_TOPOLOGY;
    }
    install_handlers(1);
    pid = spawn_command(argv + next);
    if (pid < 0) {
        perror("sentinel-topology: fork");
        rc = EXIT_TOPOLOGY;
    } else {
        child_pid = pid;
        if (pending_signal)
            kill(pid, pending_signal);
        rc = wait_command(pid);
    }
    topo_stop(t);
    reap_orphans();
    return rc;
}

static int cmd_start(int argc, char **argv)
{
    sigset_t block, old;
    topo_options opt;
    int next, rc;
    topo_t *t;

    rc = parse_topo_options(argc, argv, &opt, &next);
    if (rc != 0)
        return rc;
    if (next < argc)
        return usage_error("unexpected argument '%s'", argv[next]);
    t = start_topology(&opt, &rc);
    if (t == NULL)
        return rc;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    install_handlers(0);
    print_exports(t);
    printf("# stop with: kill %d\n", (int)getpid());
    fflush(stdout);
    while (!pending_signal)
        sigsuspend(&old);
    topo_stop(t);
    reap_orphans();
    return 0;
}

/* ======================================================================
 * ctl
 * ====================================================================== */

struct ctl_action {
    const char *name;
    int min_args, max_args;
    int (*run)(topo_t *t, char **args, int nargs);
};

static int arg_index(const char *s, int count, int *out)
{
    if (parse_int(s, 0, count - 1, out) != 0) {
        fprintf(stderr, "sentinel-topology: bad index '%s' (0..%d)\n", s, count - 1);
        return -1;
    }
    return 0;
}

static int arg_timeout(char **args, int nargs, int at, int *out)
{
    *out = DEFAULT_WAIT_MS;
    if (nargs > at && parse_int(args[at], 1, 3600000, out) != 0) {
        fprintf(stderr, "sentinel-topology: bad timeout '%s'\n", args[at]);
        return -1;
    }
    return 0;
}

static int print_int(int v)
{
    if (v < 0)
        return -1;
    printf("%d\n", v);
    return 0;
}

static int act_master_port(topo_t *t, char **args, int nargs)
{
    (void)args;
    (void)nargs;
    return print_int(topo_master_port(t));
}

static int act_master_index(topo_t *t, char **args, int nargs)
{
    (void)args;
    (void)nargs;
    return print_int(topo_master_index(t));
}

static int act_kill_master(topo_t *t, char **args, int nargs)
{
    int m = topo_master_index(t);

    (void)args;
    (void)nargs;
    if (m < 0 || topo_kill_node(t, m) != 0)
        return -1;
    return print_int(topo_node_port(t, m));
}

static int act_freeze_master(topo_t *t, char **args, int nargs)
{
    int m = topo_master_index(t);

    (void)args;
    (void)nargs;
    if (m < 0 || topo_freeze_node(t, m) != 0)
        return -1;
    return print_int(topo_node_port(t, m));
}

/* The node actions that take one index. */
static int act_on_node(topo_t *t, char *arg, int (*fault)(topo_t *, int))
{
    int i;

    if (arg_index(arg, topo_node_count(t), &i) != 0)
        return -1;
    return fault(t, i);
}

static int act_on_sentinel(topo_t *t, char *arg, int (*fault)(topo_t *, int))
{
    int i;

    if (arg_index(arg, topo_sentinel_count(t), &i) != 0)
        return -1;
    return fault(t, i);
}

static int act_kill_node(topo_t *t, char **a, int n) { (void)n; return act_on_node(t, a[0], topo_kill_node); }
static int act_freeze_node(topo_t *t, char **a, int n) { (void)n; return act_on_node(t, a[0], topo_freeze_node); }
static int act_thaw(topo_t *t, char **a, int n) { (void)n; return act_on_node(t, a[0], topo_thaw_node); }
static int act_restart_node(topo_t *t, char **a, int n) { (void)n; return act_on_node(t, a[0], topo_restart_node); }
static int act_kill_sentinel(topo_t *t, char **a, int n) { (void)n; return act_on_sentinel(t, a[0], topo_kill_sentinel); }
static int act_restart_sentinel(topo_t *t, char **a, int n) { (void)n; return act_on_sentinel(t, a[0], topo_restart_sentinel); }
static int act_thaw_all(topo_t *t, char **a, int n) { (void)a; (void)n; return topo_thaw_all(t); }
static int act_failover(topo_t *t, char **a, int n) { (void)a; (void)n; return topo_failover(t); }
static int act_demote(topo_t *t, char **a, int n) { (void)a; (void)n; return topo_demote_old_masters(t); }
static int act_kill_all_sentinels(topo_t *t, char **a, int n) { (void)a; (void)n; return topo_kill_all_sentinels(t); }
static int act_restart_all_sentinels(topo_t *t, char **a, int n) { (void)a; (void)n; return topo_restart_all_sentinels(t); }

static int act_wait_switch(topo_t *t, char **args, int nargs)
{
    int old_port, timeout;

    if (parse_int(args[0], 1, 65535, &old_port) != 0) {
        fprintf(stderr, "sentinel-topology: bad port '%s'\n", args[0]);
        return -1;
    }
    if (arg_timeout(args, nargs, 1, &timeout) != 0)
        return -1;
    return print_int(topo_wait_switch(t, old_port, timeout));
}

static int act_wait_synced(topo_t *t, char **args, int nargs)
{
    int timeout;

    if (arg_timeout(args, nargs, 0, &timeout) != 0)
        return -1;
    return topo_wait_synced(t, timeout);
}

static int act_sentinel_stat(topo_t *t, char **args, int nargs)
{
    long long v;
    int i;

    (void)nargs;
    if (arg_index(args[0], topo_sentinel_count(t), &i) != 0 ||
        topo_sentinel_info_stat(t, i, args[1], &v) != 0)
        return -1;
    printf("%lld\n", v);
    return 0;
}

static const struct ctl_action ctl_actions[] = {
    { "master-port", 0, 0, act_master_port },
    { "master-index", 0, 0, act_master_index },
    { "kill-master", 0, 0, act_kill_master },
    { "freeze-master", 0, 0, act_freeze_master },
    { "kill-node", 1, 1, act_kill_node },
    { "freeze-node", 1, 1, act_freeze_node },
    { "thaw", 1, 1, act_thaw },
    { "thaw-all", 0, 0, act_thaw_all },
    { "restart-node", 1, 1, act_restart_node },
    { "failover", 0, 0, act_failover },
    { "demote-old-masters", 0, 0, act_demote },
    { "kill-sentinel", 1, 1, act_kill_sentinel },
    { "restart-sentinel", 1, 1, act_restart_sentinel },
    { "kill-all-sentinels", 0, 0, act_kill_all_sentinels },
    { "restart-all-sentinels", 0, 0, act_restart_all_sentinels },
    { "wait-switch", 1, 2, act_wait_switch },
    { "wait-synced", 0, 1, act_wait_synced },
    { "sentinel-stat", 2, 2, act_sentinel_stat },
};

static const struct ctl_action *ctl_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof ctl_actions / sizeof ctl_actions[0]; i++)
        if (strcmp(ctl_actions[i].name, name) == 0)
            return &ctl_actions[i];
    return NULL;
}

static int cmd_ctl(int argc, char **argv)
{
    const char *dir = getenv("SENTINEL_TEST_DIR");
    const struct ctl_action *action;
    char err[1024];
    int i = 1, nargs, rc;
    topo_t *t;

    if (i + 1 < argc && strcmp(argv[i], "--dir") == 0) {
        dir = argv[i + 1];
        i += 2;
    }
    if (dir == NULL || dir[0] == '\0')
        return usage_error("%s", "ctl needs --dir DIR or $SENTINEL_TEST_DIR");
    if (i >= argc)
        return usage_error("%s", "ctl needs an action");
    action = ctl_find(argv[i]);
    if (action == NULL)
        return usage_error("unknown ctl action '%s'", argv[i]);
    nargs = argc - i - 1;
    if (nargs < action->min_args || nargs > action->max_args)
        return usage_error("wrong number of arguments for '%s'", action->name);
    t = topo_attach(dir, err, sizeof err);
    if (t == NULL) {
        fprintf(stderr, "sentinel-topology: %s\n", err);
        return EXIT_TOPOLOGY;
    }
    rc = action->run(t, argv + i + 1, nargs);
    if (rc != 0 && topo_errstr(t)[0] != '\0')
        fprintf(stderr, "sentinel-topology: %s: %s\n", action->name, topo_errstr(t));
    topo_detach(t);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "missing command");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "start") == 0)
        return cmd_start(argc - 1, argv + 1);
    if (strcmp(argv[1], "ctl") == 0)
        return cmd_ctl(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", argv[1]);
}
