# proxy_started NAME PID LOG: after a sentinel-proxy started with
# "--listen 127.0.0.1:0 --admin 127.0.0.1:0" logged to LOG, sets NAME_PID,
# NAME_PORT and NAME_ADMIN (the ports it logged; empty if not logged yet)
# and NAME_LOG. Sourced by tests/proxy/lib.sh and tests/tls/proxy_lib.sh.
proxy_started() {
    local port admin
    port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\)$/\1/p' "$3" | head -n1)
    admin=$(sed -n 's/.*admin endpoint on [0-9.]*:\([0-9]*\)$/\1/p' "$3" | head -n1)
    printf -v "${1}_PID" '%s' "$2"
    printf -v "${1}_PORT" '%s' "$port"
    printf -v "${1}_ADMIN" '%s' "$admin"
    printf -v "${1}_LOG" '%s' "$3"
}
