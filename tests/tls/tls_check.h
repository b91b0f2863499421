/*
 * The check macro of the TLS test programs (tls_conn.c, tls_follow.c): a
 * failed CHECK prints "FAIL file:line: message" and is counted in
 * `failures`; the program's exit status comes from that count.
 */
#ifndef TLS_CHECK_H
#define TLS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            failures++;                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);    \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
        }                                                  \
    } while (0)

#endif
