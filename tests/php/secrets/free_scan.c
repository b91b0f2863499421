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
 *
 * explicit_bzero() is interposed as well, for the extension's stack buffer
 * that encodes an array key (sentinel_fast.c, key_enc: 256 bytes, flushed
 * into the hash when full): the bytes after a wipe of 65 to 255 bytes,
 * up to 256 from its start, are scanned too, so a wipe of the last fill
 * only (earlier fills' bytes, a password among them, left past it) is a hit
 * ("free_scan: a wiped buffer kept the secret past its wipe").
 */
#define _GNU_SOURCE /* memmem */
#include <malloc.h>
#include <stdint.h>
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

/* The size of sentinel_fast.c's key encoding buffer (key_enc.buf); wipes
 * of at most KEY_ENC_MIN bytes are not that buffer's (SipHash's state and
 * words, wiped in frames below it while the buffer still holds the key:
 * scanning past them would find the buffer). remember.php's key leaves
 * more than KEY_ENC_MIN bytes in the buffer's last fill. */
#define KEY_ENC_BUF 256
#define KEY_ENC_MIN 64

/* The bytes past a wipe (glibc declares explicit_bzero()'s buffer write-only,
 * so it is read here through its address as a number). */
static int kept_past(uintptr_t at, size_t n)
{
    return marklen > 0 && n > KEY_ENC_MIN && n < KEY_ENC_BUF &&
           memmem((const char *)at + n, KEY_ENC_BUF - n, mark, marklen) != NULL;
}

void explicit_bzero(void *p, size_t n)
{
    volatile unsigned char *v = p;

    if (kept_past((uintptr_t)p, n))
        say("free_scan: a wiped buffer kept the secret past its wipe\n");
    for (size_t i = 0; i < n; i++)
        v[i] = 0;
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
