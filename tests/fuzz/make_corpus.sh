#!/usr/bin/env bash
# Regenerate the seed corpora in corpus/<target>/ from the real replies and
# messages below (what redis-server 7 and redis-sentinel 7 send). Run from
# anywhere; it rewrites only the seed files it names.
set -euo pipefail
mkdir -p "$(dirname "$0")/corpus"
cd "$(dirname "$0")/corpus"

seed() { # seed TARGET NAME PRINTF-FORMAT [ARGS...]
    local target="$1" name="$2"; shift 2
    mkdir -p "$target"
    # shellcheck disable=SC2059
    printf -- "$@" >"$target/$name"
}

# ---- RESP replies -------------------------------------------------------
ADDR='*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n'
ADDR6='*2\r\n$3\r\n::1\r\n$4\r\n6380\r\n'
ADDR_NAT='*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n'
NULL_ARRAY='*-1\r\n'
NULL_BULK='$-1\r\n'
ROLE_MASTER='*3\r\n$6\r\nmaster\r\n:3129\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n$4\r\n3129\r\n'
ROLE_MASTER_EMPTY='*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n'
ROLE_REPLICA='*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:3129\r\n'
ROLE_SENTINEL='*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n'
S1='*14\r\n$4\r\nname\r\n$40\r\n8d8a4bd5a5d5a2a18a7d58a9d5e17c7bfb1c1d3e\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$5\r\n26380\r\n$5\r\nrunid\r\n$40\r\n8d8a4bd5a5d5a2a18a7d58a9d5e17c7bfb1c1d3e\r\n$5\r\nflags\r\n$8\r\nsentinel\r\n$18\r\nlast-hello-message\r\n$3\r\n412\r\n$12\r\nvoted-leader\r\n$1\r\n?\r\n'
S2='*10\r\n$4\r\nname\r\n$40\r\n1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d\r\n$2\r\nip\r\n$3\r\n::1\r\n$4\r\nport\r\n$5\r\n26381\r\n$5\r\nflags\r\n$15\r\ns_down,sentinel\r\n$18\r\nvoted-leader-epoch\r\n$1\r\n0\r\n'
SENTINELS="*2\\r\\n$S1$S2"
SENTINELS_NONE='*0\r\n'
OK='+OK\r\n'
NOAUTH='-NOAUTH Authentication required.\r\n'
WRONGPASS='-WRONGPASS invalid username-password pair or user is disabled.\r\n'
NOPERM="-NOPERM User sentinel-user has no permissions to run the 'sentinel|sentinels' command\\r\\n"
NOPASS='-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n'
UNKNOWN='-ERR unknown command `ROLE`, with args beginning with: \r\n'
IDKM='-IDONTKNOW No such master with that name\r\n'

R=replies
seed $R get_master_addr "$ADDR"
seed $R get_master_addr_v6 "$ADDR6"
seed $R get_master_addr_port_int '*2\r\n$9\r\n127.0.0.1\r\n:6379\r\n'
seed $R null_array "$NULL_ARRAY"
seed $R null_bulk "$NULL_BULK"
seed $R role_master "$ROLE_MASTER"
seed $R role_master_no_replicas "$ROLE_MASTER_EMPTY"
seed $R role_replica "$ROLE_REPLICA"
seed $R role_replica_resp3_name '*5\r\n$7\r\nreplica\r\n$9\r\n127.0.0.1\r\n:6379\r\n$10\r\nconnecting\r\n:-1\r\n'
seed $R role_sentinel "$ROLE_SENTINEL"
seed $R sentinels_two "$SENTINELS"
seed $R sentinels_none "$SENTINELS_NONE"
seed $R err_noauth "$NOAUTH"
seed $R err_wrongpass "$WRONGPASS"
seed $R err_noperm "$NOPERM"
seed $R err_nopass "$NOPASS"
seed $R err_unknown_command "$UNKNOWN"
seed $R err_idontknow "$IDKM"
seed $R auth_then_addr_then_sentinels "$OK$ADDR$SENTINELS"
seed $R pipeline_mixed "$OK$NULL_ARRAY$ROLE_REPLICA:42\r\n+PONG\r\n$ROLE_MASTER"
seed $R truncated '*2\r\n$9\r\n127.0'
seed $R nested_deep '*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n'
seed $R err_readonly_loading_masterdown "-READONLY You can't write against a read only replica.\\r\\n-LOADING Redis is loading the dataset in memory\\r\\n-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\\r\\n"
seed $R garbage 'HTTP/1.1 400 Bad Request\r\n\r\n'

# ---- whole resolutions: flags, read size, streams split by "\n--\n" ------
V=resolve
seed $V ok_discovery '\x04\x00%b%b\n--\n%b' "$ADDR" "$SENTINELS" "$ROLE_MASTER"
seed $V ok_bytewise '\x04\x01%b%b\n--\n%b' "$ADDR" "$SENTINELS" "$ROLE_MASTER"
seed $V ok_auth_both '\x07\x05%b%b%b\n--\n%b%b' "$OK" "$ADDR" "$SENTINELS" "$OK" "$ROLE_MASTER"
seed $V unknown_master '\x00\x00%b' "$NULL_ARRAY"
seed $V replica_then_master '\x80\x00%b\n--\n%b\n--\n%b\n--\n%b' "$ADDR" "$ROLE_REPLICA" "$ADDR" "$ROLE_MASTER"
seed $V quorum_two '\x28\x00%b\n--\n%b\n--\n%b' "$ADDR" "$ADDR" "$ROLE_MASTER_EMPTY"
seed $V quorum_disagree '\x28\x00%b\n--\n%b' "$ADDR" "$ADDR6"
seed $V address_map '\x40\x00%b\n--\n%b' "$ADDR_NAT" "$ROLE_MASTER"
seed $V sentinel_wrongpass '\x01\x00%b' "$WRONGPASS"
seed $V master_noauth '\x00\x00%b\n--\n%b' "$ADDR" "$NOAUTH"
seed $V first_sentinel_garbage '\x20\x00HTTP/1.1 400\r\n\n--\n%b\n--\n%b' "$ADDR" "$ROLE_SENTINEL"
# Try 1: the sentinel names a replica and teaches two more sentinels; try 2:
# the first sentinel hangs up, the first discovered one answers.
seed $V discovered_sentinels '\x84\x00%b%b\n--\n%b\n--\n\n--\n%b\n--\n%b' "$ADDR" "$SENTINELS" \
    "$ROLE_REPLICA" "$ADDR" "$ROLE_MASTER"

# ---- sentinel pub/sub events: "<channel>\n<payload>" -------------------
E=event
M='master mymaster 127.0.0.1 6379'
SL='slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379'
for ch in +try-failover +elected-leader +failover-state-select-slave \
          +failover-state-reconf-slaves -failover-abort-not-elected \
          -failover-abort-no-good-slave -failover-abort-slave-timeout; do
    seed $E "${ch#[+-]}" '%s\n%s' "$ch" "$M"
done
for ch in +selected-slave +failover-state-send-slaveof-noone \
          +failover-state-wait-promotion +promoted-slave; do
    seed $E "${ch#[+-]}" '%s\n%s' "$ch" "$SL"
done
seed $E switch-master '+switch-master\nmymaster 127.0.0.1 6379 127.0.0.1 6380'
seed $E switch-master-v6 '+switch-master\nmymaster ::1 6379 ::1 6380'
seed $E switch-master-other '+switch-master\nothermaster 10.0.0.1 6379 10.0.0.2 6379'
seed $E selected-slave-v6 '+selected-slave\nslave [::1]:6380 ::1 6380 @ mymaster ::1 6379'
seed $E sdown-sentinel '+sdown\nsentinel 8d8a4bd5a5d5a2a18a7d58a9d5e17c7bfb1c1d3e 127.0.0.1 26380 @ mymaster 127.0.0.1 6379'
seed $E tilt '+tilt\n#tilt mode entered'

# ---- configuration strings ----------------------------------------------
H=hostport
seed $H v4 '127.0.0.1:26379'
seed $H v6 '[::1]:26379'
seed $H v6_scope '[fe80::1%%eth0]:26379'
seed $H name 'sentinel-1.example.com:26379'
seed $H map_ports '10.0.0.1:6379=127.0.0.1:7000'
seed $H map_hosts 'redis-1=[::1]'

L=sentinel_list
seed $L three_commas '127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381'
seed $L v6_spaces '[::1]:26379 [::1]:26380'
seed $L mixed_blanks ' s1:26379, s2:26379\n\ts3:26379 ,'
seed $L duplicates 'sentinel-a.internal:26379,sentinel-a.internal:26379'

A=address_map
seed $A one '10.0.0.1=127.0.0.1'
seed $A ports '10.0.0.1:6379=127.0.0.1:7000,10.0.0.2=127.0.0.2'
seed $A v6 '[fd00::1]:6379=[::1]:7000 [fd00::2]=[::1]'
seed $A names 'redis-1=localhost:6380 redis-2=localhost:6381'
seed $A docker '172.17.0.2:26379=127.0.0.1:26379, 172.17.0.3:6379=127.0.0.1:6379'

# ---- the proxy's config file and flags (src/proxy/config.c) -------------
P=proxy_config
seed $P basic '# comment\nmaster mymaster\nsentinel 127.0.0.1:26379,127.0.0.1:26380\nunix /tmp/proxy.sock\nbuffer-size 16384\n'
seed $P full 'listen 127.0.0.1:6380\nunix none\nunix-mode 0770\nadmin 127.0.0.1:0\nsentinel [::1]:26379\nsentinel 127.0.0.1:26380\nmaster mymaster\nsentinel-user sentinel-user\nsentinel-password "s3cret with space "\ndata-user app\ndata-password pw\nconnect-timeout 250\ncommand-timeout 250\nresolve-timeout 5000\npoll-interval 1000\nprobe-interval 20\npause-timeout 5000\nidle-timeout 0\nmax-clients 4096\nlog-level warn\n'
seed $P watch '\t master   mymaster  \nsentinel 10.0.0.1:26379 10.0.0.2:26379\nwatch yes\nshared-cache auto\nshared-cache-ttl 60000\n'
seed $P errors 'master mymaster\nmax-clients 0\n'
seed $P unknown_key 'bogus 1\n'
seed $P routes 'sentinel 127.0.0.1:26379\nroute 127.0.0.1:6380 cache\nroute 127.0.0.1:6381=sessions\nroute [::1]:0=page\n'
seed $P route_clash 'sentinel 127.0.0.1:26379\nmaster cache\nlisten 127.0.0.1:6380\nroute 127.0.0.1:6380=cache\nroute 127.0.0.1:6381\n'
seed $P tls 'master m\nsentinel 127.0.0.1:26379\ntls yes\ncacert /etc/redis/tls/ca.crt\ncacertdir /etc/ssl/certs\ncert c.crt\nkey c.key\nsni redis.example\ninsecure no\ntls-min-version 1.3\nsentinel-tls no\nsentinel-cacert s.crt\nsentinel-sni s.example\nsentinel-insecure yes\nsentinel-tls-min-version 1.2\ntls-listen-cert p.crt\ntls-listen-key p.key\ntls-listen-cacert ca.crt\n'
seed $P tls_errors 'tls maybe\ntls-min-version 1.1\nsni a b\ncacert \ntls-listen-cacert ca.crt\n'
A2=proxy_args
seed $A2 basic '--sentinel\n127.0.0.1:26379\n--master\nmymaster\n--listen\n127.0.0.1:0'
seed $A2 equals '--sentinel=127.0.0.1:26379,[::1]:26380\n--master=mymaster\n--admin=127.0.0.1:9121\n--log-level=debug\n--idle-timeout=30000'
seed $A2 watch '--watch\n--shared-cache\n/dev/shm/sentinel.cache\n--sentinel\n127.0.0.1:26379\n--master\nm'
seed $A2 help '--help'
seed $A2 missing_value '--master'
seed $A2 routes '--sentinel\n127.0.0.1:26379\n--route\n127.0.0.1:0=cache\n--route=127.0.0.1:0=sessions\n--master\nmain'
seed $A2 watch_masters '--watch\n--shared-cache\nauto\n--sentinel\n127.0.0.1:26379\n--master\na\n--master\nb\n--master\na'
seed $A2 tls '--tls\n--cacert\nca.crt\n--cert\nc.crt\n--key\nc.key\n--sentinel-no-tls\n--insecure\n--sni=x\n--tls-listen-cert\np.crt\n--tls-listen-key=p.key\n--master\nm\n--sentinel\n127.0.0.1:1'

# ---- the PHP extension's INI values (php-ext/sentinel_ini.c) ------------
# Records of [setting byte][length byte][value]; setting numbers as in
# fuzz_php_ini.c: 0 sentinels, 1 master_name, 2..6 the *_ms, 7..10 users and
# passwords, 11 shared_cache, 12 shared_cache_dir, 13 watch, 14 watch_poll_ms.
ini() { # ini NAME SETTING VALUE [SETTING VALUE...]: one record per pair
    local name="$1" out=""; shift
    while [ $# -ge 2 ]; do
        out+="$(printf '\\x%02x\\x%02x' "$1" "${#2}")$2"
        shift 2
    done
    seed php_ini "$name" "$out"
}
ini sentinels 0 '127.0.0.1:26379,127.0.0.1:26380 [::1]:26381'
ini sentinels_bad 0 '127.0.0.1:99999' 0 'host:26379'
ini master_name 1 'mymaster'
ini master_name_bad 1 'my master' 1 'ok'
ini timeouts 2 '250' 3 '0' 4 '86400000' 5 '60000' 6 '1000'
ini timeouts_bad 2 '86400001' 3 '-1' 4 '1e3' 5 ' 5' 6 '123456789'
ini credentials 7 'sentinel-user' 8 's3cret' 9 'app' 10 'pw with space'
ini shared_cache 11 'off' 11 'yes' 11 '0'
ini cache_dir 12 '/dev/shm' 12 'relative/dir' 12 $'/tmp\nx'
ini watch 13 'auto' 13 'ON' 13 'False' 13 'maybe'
ini watch_poll 14 '100' 14 '3600000' 14 '99' 14 '3600001'

# ---- the proxy's RESP framing (src/proxy/resp.c) ------------------------
# A byte that picks the read sizes, the client's commands, "\n--\n", the
# master's replies.
C=resp
CMD_GET='*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n'
CMD_SET='*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n'
CMD_EVAL='*3\r\n$4\r\neval\r\n$33\r\nreturn redis.call("get", KEYS[1])\r\n$1\r\n0\r\n'
CMD_PING='*1\r\n$4\r\nPING\r\n'
CMD_HGETALL='*2\r\n$7\r\nHGETALL\r\n$4\r\nhash\r\n'
seed $C get_set '\x00%b%b\n--\n%b%b' "$CMD_GET" "$CMD_SET" '$5\r\nvalue\r\n' "$OK"
seed $C pipeline '\x07%b%b%b%b\n--\n%b%b%b%b' "$CMD_PING" "$CMD_GET" "$CMD_EVAL" "$CMD_HGETALL" \
    '+PONG\r\n' "$NULL_BULK" '$5\r\nvalue\r\n' '*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n'
seed $C binary_bulks '\x21*3\r\n$3\r\nSET\r\n$6\r\n\r\n*1\r\r\n$8\r\n\x00\xff\r\n$3\r\n\r\n\n--\n$6\r\n\r\n*1\r\r\n%b' "$OK"
seed $C stateful '\x03*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n\n--\n%b+QUEUED\r\n%b' "$OK" "$NULL_ARRAY"
seed $C inline '\x04PING\r\nGET key\r\n\n--\n+PONG\r\n$-1\r\n'
seed $C split_request '\x05*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$100\r\nabc\n--\n-ERR wrong number of arguments\r\n:1\r\n'
seed $C nested_replies '\x0c%b\n--\n*2\r\n*1\r\n:1\r\n$-1\r\n*3\r\n*0\r\n*-1\r\n*2\r\n*2\r\n+a\r\n$-1\r\n*1\r\n$1\r\nz\r\n%b%b' \
    "$CMD_PING" "$ROLE_MASTER" "$SENTINELS"
seed $C reply_errors '\x02%b\n--\n%b$3\r\nabcX\n' "$CMD_GET" "$OK"
seed $C resp3_reply '\x01%b\n--\n%%1\r\n+a\r\n:1\r\n' "$CMD_HGETALL"
