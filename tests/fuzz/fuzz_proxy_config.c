/*
 * Fuzz target: the proxy's config file (sentinel_proxy_config_load in
 * src/proxy/config.c), "key value" per line with # comments and quotes.
 *
 * Input: the file's bytes, handed over as /proc/self/fd/N of a memfd so the
 * real fopen/fgets path runs without touching the disk. Beyond "no crash":
 * a refused file says why; an accepted one holds only values in range,
 * terminated strings and a sentinel list the library's parser accepts.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_net.h"
#include "proxy/proxy_int.h"
#include "fuzz_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    sentinel_proxy_config_t *c;
    char err[512];
    int rc;

    if (fd == -1) {
        if ((fd = memfd_create("fuzz_proxy_config", 0)) == -1)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    if ((c = sentinel_proxy_config_new()) == NULL)
        abort();
    err[0] = '\0';
    rc = px_config_load(c, path, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == -1)
        FUZZ_CHECK(err[0] != '\0' && strnlen(err, sizeof(err)) < sizeof(err));
    fuzz_proxy_check_config(c);
    sentinel_proxy_config_free(c);
    return 0;
}
