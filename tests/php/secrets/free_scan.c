/*
 * LD_PRELOAD shim for tests/php/secrets/run.sh: every block freed through
 * free() or realloc() is scanned for the marker first: SN_FREE_SCAN_MARK
 * reversed (PHP CLI copies its environment into blocks of its own and frees
 * them at exit, so the marker itself must not be in the environment; the
 * script builds its passwords with strrev()). A hit prints "free_scan: a
 * freed block held the secret" to stderr.
 * realloc() always moves (a valid realloc), so the old block is scanned as
 * a moving realloc() would free it. PHP's request memory (emalloc) lives
 * in the Zend allocator's own mappings and never reaches free(): what is
 * scanned is persistent memory (pemalloc(..., 1)), the extension's and
 * libsentinel's. The first free() after start prints "free_scan: on", so
 * the script knows the shim ran.
 */
#define _GNU_SOURCE /* memmem */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void __libc_free(void *p);
void *__libc_malloc(size_t n);

static char mark[128];
static size_t marklen;
static int announced;

__attribute__((constructor)) static void free_scan_init(void)
{
    const char *m = getenv("SN_FREE_SCAN_MARK");

    if (m != NULL && m[0] != '\0' && strlen(m) < sizeof(mark)) {
        marklen = strlen(m);
        for (size_t i = 0; i < marklen; i++)
            mark[i] = m[marklen - 1 - i];
    }
}

static void say(const char *msg)
{
    ssize_t n = write(2, msg, strlen(msg));
    (void)n;
}

void free(void *p)
{
    if (!announced && marklen > 0) {
        announced = 1;
        say("free_scan: on\n");
    }
    if (p != NULL && marklen > 0 && memmem(p, malloc_usable_size(p), mark, marklen) != NULL)
        say("free_scan: a freed block held the secret\n");
    __libc_free(p);
}

void *realloc(void *p, size_t n)
{
    void *q;
    size_t old;

    if (p == NULL)
        return __libc_malloc(n);
    if ((q = __libc_malloc(n ? n : 1)) == NULL)
        return NULL;
    old = malloc_usable_size(p);
    memcpy(q, p, old < n ? old : n);
    free(p);
    return q;
}
