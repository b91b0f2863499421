/*
 * shm-watch: read libsentinel's shared cache file the way a PHP worker
 * does (sentinel_shm_read, lock-free), for the watch-mode test.
 *
 *   shm-watch PATH                  print "HOST PORT FLAGS" of the entry
 *   shm-watch PATH OLDPORT SECONDS  poll every 2 ms until the entry names
 *                                   another port; print what was seen
 * With SHM_WATCH_GID=GID in the environment the file is opened as one
 * shared by that group (mode 0660), as a member of it would.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sentinel/shared_cache.h"

int main(int argc, char **argv)
{
    sentinel_shm_entry e;
    sentinel_shm_t *shm;
    int code = 0, oldport, saw_failover = 0;
    long polls;

    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: shm-watch PATH [OLDPORT SECONDS]\n");
        return 2;
    }
    if (getenv("SHM_WATCH_GID") != NULL) {
        /* a file shared by group (sentinel-proxy --shared-cache-group):
         * opened as a member of that group, never created */
        sentinel_shm_options opt = {.size = sizeof(opt),
                                    .mode = 0660,
                                    .use_group = 1,
                                    .gid = (unsigned int)strtoul(getenv("SHM_WATCH_GID"), NULL, 10),
                                    .no_create = 1};
        char why[256] = "";

        if ((shm = sentinel_shm_open_ex(argv[1], &opt, &code, why, sizeof(why))) == NULL) {
            fprintf(stderr, "shm-watch: %s: %s\n", sentinel_strerror(code), why);
            return 2;
        }
    } else if ((shm = sentinel_shm_open(argv[1], &code)) == NULL) {
        fprintf(stderr, "shm-watch: %s\n", sentinel_strerror(code));
        return 2;
    }
    if (argc == 2) {
        int rc = sentinel_shm_read(shm, &e);
        if (rc == 0)
            printf("%s %d %u\n", e.addr.host, e.addr.port, e.flags);
        sentinel_shm_close(shm);
        return rc == 0 ? 0 : 1;
    }
    oldport = atoi(argv[2]);
    polls = atol(argv[3]) * 500;
    for (long i = 0; i < polls; i++) {
        struct timespec ts = {0, 2000000};
        if (sentinel_shm_read(shm, &e) == 0) {
            if (e.addr.port == oldport && (e.flags & SENTINEL_SHM_FAILOVER))
                saw_failover = 1;
            if (e.addr.port != oldport) {
                printf("port=%d flags=%u saw_failover_flag=%d\n", e.addr.port, e.flags,
                       saw_failover);
                sentinel_shm_close(shm);
                return 0;
            }
        }
        nanosleep(&ts, NULL);
    }
    printf("port=%d saw_failover_flag=%d timeout\n", oldport, saw_failover);
    sentinel_shm_close(shm);
    return 1;
}
