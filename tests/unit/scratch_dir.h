/*
 * A scratch directory for unit tests that make files (the shared cache
 * tests): created with mkdtemp, emptied and removed in teardown. Header-only;
 * each test binary includes it once.
 */
#ifndef SN_TEST_SCRATCH_DIR_H
#define SN_TEST_SCRATCH_DIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    char path[128]; /* dir/cache.shm */
} fixture;

/* A fixture with a fresh directory under /tmp named after prefix; NULL on
 * failure. */
static inline fixture *scratch_new(const char *prefix)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    snprintf(f->dir, sizeof(f->dir), "/tmp/%s-XXXXXX", prefix);
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return NULL;
    }
    snprintf(f->path, sizeof(f->path), "%s/cache.shm", f->dir);
    return f;
}

/* Remove the directory and what the test left in it (one level). */
static inline void scratch_free(fixture *f)
{
    DIR *d = opendir(f->dir);
    struct dirent *de;

    while (d != NULL && (de = readdir(d)) != NULL) {
        char p[512];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(f->dir);
    free(f);
}

#endif
