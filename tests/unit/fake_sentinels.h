/*
 * A scripted network and clock for unit tests of the watcher and the
 * follower: the non-blocking side of the transport seam (sn_transport nb_*)
 * plays sentinels and data nodes, sn_clock_set() a clock that moves only
 * when the test says. Handles are HANDLE_BASE + slot, never real fds.
 *
 * Sentinels answer AUTH, SUBSCRIBE (or -NOPERM), PING, SENTINEL
 * get-master-addr-by-name, SENTINEL MASTER (name, ip, port, flags) and
 * SENTINEL sentinels; tests publish events on
 * them, kill them, or freeze them. Data nodes answer AUTH and ROLE from
 * their current role, or stay silent, or refuse connections.
 */
#ifndef FAKE_SENTINELS_H
#define FAKE_SENTINELS_H

#include <stdint.h>

#include "internal.h"

#define MAX_NODES 8
#define MAX_CONNS 32
#define HANDLE_BASE 100 /* fake handles look nothing like small real fds */

typedef struct node {
    char host[64];
    int port;
    int is_sentinel;
    int refuse;  /* connections refused */
    int silent;  /* accepts and reads, never answers */
    int deny_subscribe; /* sentinel: SUBSCRIBE is refused with -NOPERM */
    const char *sentinels_reply; /* sentinel: RESP for SENTINEL sentinels (default *0) */
    char role[16]; /* data node: "master" or "slave" */
    const char *password; /* AUTH required (data nodes) */
    char master_host[64]; /* sentinel: its answer to get-master-addr-by-name */
    int master_port;
    int opens, role_cmds, auth_cmds, auth_failed, cmds;
    const char *name2; /* sentinel: a second master name it knows (NULL: none) */
    char master2_host[64];
    int master2_port;
    int dup_query; /* sentinel: answers the dup_query-th SENTINEL command from
                      now twice, as a buggy sentinel or proxy would (0: never) */
    int deny_master_cmd; /* sentinel: SENTINEL MASTER is refused (-NOPERM) */
    int close_after_auth; /* answers AUTH, then closes the connection */
    int dup_extra; /* with dup_query: how many extra copies (0: one) */
    int close_after_query; /* sentinel: answers what one write asked, then
                              closes if a SENTINEL command was among it */
    int auth_unknown; /* AUTH answered as by a server that does not know it
                         (Redis 7 with AUTH renamed): its arguments quoted */
} node;

typedef struct conn {
    int used;
    node *n;
    redisReader *in;
    char out[65536];
    size_t outlen;
    int subscribed;
    int authed;
    int closed; /* the peer went away: recv says 0 */
} conn;

extern int64_t fake_now;
extern node nodes[MAX_NODES];
extern int nnodes;
extern conn conns[MAX_CONNS];
extern const sn_transport fake_transport;

int64_t fake_clock(void);
/* Forget every node and connection; install the fake network and clock. */
void fake_net_install(void);
/* Restore the real network and clock. */
void fake_net_remove(void);
node *node_add(const char *host, int port, int is_sentinel);
node *node_find(const char *host, int port);
int open_connections(void);
/* A sentinel publishes an event to every subscriber. */
void publish(node *s, const char *channel, const char *payload);
/* A node dies: its connections close, new ones are refused. */
void node_kill(node *n);
/* The handle of n's first open connection, or -1. */
int handle_of(const node *n);

/* The usual topology: sentinels S1..S3 (10.0.1.1-3:26379) naming master
 * M1 (10.0.0.1:6379), replicas R1 (10.0.0.2:6380) and R2 (10.0.0.3:6381);
 * fake_net_install() included. */
extern node *S1, *S2, *S3, *M1, *R1, *R2;
void fake_topology(void);
/* What every sentinel answers to get-master-addr-by-name from now on. */
void sentinels_name(const char *host, int port);

#define M1_ADDR "10.0.0.1 6379"
#define R1_ADDR "10.0.0.2 6380"
#define R2_ADDR "10.0.0.3 6381"
#define TRY_M1 "master mymaster " M1_ADDR
#define SELECT_R1 "slave 10.0.0.2:6380 " R1_ADDR " @ mymaster " M1_ADDR
#define SWITCH_M1_R1 "mymaster " M1_ADDR " " R1_ADDR

#endif
