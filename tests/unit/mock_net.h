/*
 * A scripted blocking network for unit tests (the transport seam of
 * link.c, installed with sn_transport_set(&mock_transport)): every sentinel
 * names mock_master_host:mock_master_port, every node answers ROLE master,
 * AUTH is accepted. It counts connections so a test can assert "no
 * traffic" or tell a cached answer from an asked one.
 */
#ifndef MOCK_NET_H
#define MOCK_NET_H

#include "internal.h"

extern int mock_opens;          /* connections opened */
extern int mock_auths;          /* AUTH commands answered */
extern int mock_fail_open;      /* every connection refused (MASTER_UNREACHABLE) */
extern int mock_refused_port;   /* connections to this port refused (NO_SENTINEL_REACHABLE) */
extern char mock_master_host[64];
extern int mock_master_port;
extern const sn_transport mock_transport;

/* Forget connections and counters; nothing refused; master 127.0.0.1:6380. */
void mock_net_reset(void);

#endif
