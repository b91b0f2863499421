/*
 * Fuzz target: the TLS options as a program or a command line hands them to
 * the library (sentinel_set_tls*, tls.c), in any order and with any values,
 * then copied into a watcher and a follower and freed (options.c).
 *
 * Input: a sequence of calls. Each is one opcode byte (which setter), one
 * role byte (any value: bad roles are part of the input), one int byte,
 * then two strings, each up to a NUL or the end (an empty string is NULL).
 * Beyond "no crash, no leak": a setter returns 0 or -1, and -1 comes with a
 * fixed code (INVALID_ARGUMENT, TLS or NO_MEMORY) and a message; a client
 * certificate is accepted only with its key; TLS is refused with
 * SENTINEL_ERR_TLS where the build has no TLS support (the fuzz build
 * compiles tls.c without OpenSSL).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"
#include "sentinel/follow.h"

/* The next string of the input, NULL when empty; *p moves past its NUL. */
static char *take_string(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *s;

    if (n == 0) {
        *p += nul ? 1 : 0;
        return NULL;
    }
    if ((s = malloc(n + 1)) == NULL)
        abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += n + (nul ? 1 : 0);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    sentinel_t *s = sentinel_new("mymaster", NULL);
    sentinel_watch_t *w;
    sentinel_follow_t *f;

    if (s == NULL || sentinel_add_sentinel(s, "127.0.0.1", 26379) != 0)
        abort();
    for (int calls = 0; end - p >= 3 && calls < 64; calls++) {
        int op = p[0] % 6, role = (int8_t)p[1], num = (int8_t)p[2], rc;
        char *a, *b;

        p += 3;
        a = take_string(&p, end);
        b = take_string(&p, end);
        switch (op) {
        case 0: rc = sentinel_set_tls(s, role, num); break;
        case 1: rc = sentinel_set_tls_ca(s, role, a, b); break;
        case 2:
            rc = sentinel_set_tls_cert(s, role, a, b);
            if (rc == 0)
                FUZZ_CHECK((a == NULL) == (b == NULL));
            break;
        case 3: rc = sentinel_set_tls_server_name(s, role, a); break;
        case 4: rc = sentinel_set_tls_verify(s, role, num); break;
        default:
            rc = sentinel_set_tls_min_version(s, role, num == 2   ? SENTINEL_TLS_V1_2
                                                       : num == 3 ? SENTINEL_TLS_V1_3
                                                                  : num);
            break;
        }
        FUZZ_CHECK(rc == SENTINEL_OK || rc == sentinel_errcode(s));
        if (rc != SENTINEL_OK) {
            int code = sentinel_errcode(s);
            FUZZ_CHECK(code == SENTINEL_ERR_INVALID_ARGUMENT || code == SENTINEL_ERR_TLS ||
                       code == SENTINEL_ERR_NO_MEMORY);
            FUZZ_CHECK(sentinel_errstr(s)[0] != '\0');
        }
        if (op == 0 && num != 0 && (role == SENTINEL_TLS_SENTINELS || role == SENTINEL_TLS_DATA) &&
            !sentinel_tls_available())
            FUZZ_CHECK(rc == SENTINEL_ERR_TLS && sentinel_errcode(s) == SENTINEL_ERR_TLS);
        free(a);
        free(b);
    }
    /* Copies own their strings (and the contexts' references). */
    w = sentinel_watch_new(s, NULL, NULL, NULL);
    f = sentinel_follow_new(s, NULL);
    sentinel_free(s);
    sentinel_watch_free(w);
    sentinel_follow_free(f);
    return 0;
}
