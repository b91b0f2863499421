/*
 * Fuzz target: the proxy's command-line flags
 * (sentinel_proxy_config_parse_args in src/proxy/config.c).
 *
 * Input: the arguments after argv[0], one per line. Inputs that name a
 * "config" option are skipped: that flag opens a file by name, which
 * fuzz_proxy_config covers, and a fuzzed name could be /dev/stdin.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"
#include "proxy/proxy_int.h"
#include "fuzz_proxy.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *argv[MAX_ARGS + 2], err[512];
    sentinel_proxy_config_t *c;
    int argc = 0, rc;

    if (memmem(data, size, "config", 6) != NULL)
        return 0;
    if ((buf = malloc(size + 1)) == NULL)
        abort();
    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[argc++] = "sentinel-proxy";
    for (char *p = buf; argc <= MAX_ARGS;) {
        char *nl = strchr(p, '\n');
        argv[argc++] = p;
        if (nl == NULL)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;
    if ((c = sentinel_proxy_config_new()) == NULL)
        abort();
    err[0] = '\0';
    rc = px_config_parse_args(c, argc, argv, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -1 || rc == SENTINEL_PROXY_ARGS_HELP ||
               rc == SENTINEL_PROXY_ARGS_VERSION);
    if (rc == -1)
        FUZZ_CHECK(err[0] != '\0' && strnlen(err, sizeof(err)) < sizeof(err));
    fuzz_proxy_check_config(c);
    sentinel_proxy_config_free(c);
    free(buf);
    return 0;
}
