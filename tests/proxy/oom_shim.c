/*
 * oom_shim: malloc/calloc/realloc that fail on command (see oom_shim.h).
 * Built as liboom_shim.so (tests/proxy/CMakeLists.txt), never with the
 * sanitizers: under an ASan build of the proxy it is preloaded in front of
 * libasan (ASAN_OPTIONS=verify_asan_link_order=0) and forwards to ASan's
 * allocator, found like libc's with dlsym(RTLD_NEXT).
 */
#define _GNU_SOURCE
#include "oom_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static struct oom_shim_ctl *ctl;
static uint64_t rng_state;

/* dlsym itself may allocate: those few bytes come from here, and are
 * never given back. */
static _Alignas(max_align_t) unsigned char boot[4096];
static size_t boot_used;
static __thread int resolving __attribute__((tls_model("initial-exec")));

static int from_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof(boot);
}

static void *boot_alloc(size_t n)
{
    size_t at = __atomic_fetch_add(&boot_used, (n + 15) & ~(size_t)15, __ATOMIC_RELAXED);

    if (at + n > sizeof(boot))
        return NULL;
    return boot + at; /* static: zeroed */
}

static int resolve(void)
{
    if (real_free != NULL)
        return 0;
    if (resolving)
        return -1;
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    __atomic_store_n(&real_free, (void (*)(void *))dlsym(RTLD_NEXT, "free"), __ATOMIC_RELEASE);
    resolving = 0;
    return real_free ? 0 : -1;
}

__attribute__((constructor)) static void oom_shim_init(void)
{
    const char *path = getenv("OOM_SHIM_FILE");
    struct stat st;
    void *m;
    int fd;

    resolve();
    rng_state = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL + 1;
    if (path == NULL || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
        return;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(struct oom_shim_ctl)) {
        m = mmap(NULL, sizeof(struct oom_shim_ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED)
            ctl = m;
    }
    close(fd);
}

static uint32_t rnd_ppm(void)
{
    uint64_t z = __atomic_add_fetch(&rng_state, 0x9E3779B97F4A7C15ULL, __ATOMIC_RELAXED);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (uint32_t)((z ^ (z >> 31)) % 1000000u);
}

/* 1: this allocation of n bytes fails. */
static int should_fail(size_t n)
{
    struct oom_shim_ctl *c = ctl;
    int64_t left;

    if (c == NULL || c->magic != OOM_SHIM_MAGIC || !__atomic_load_n(&c->armed, __ATOMIC_ACQUIRE) ||
        n < c->min_size)
        return 0;
    if (c->until_ms) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= c->until_ms)
            return 0;
    }
    __atomic_add_fetch(&c->seen, 1, __ATOMIC_RELAXED);
    left = __atomic_load_n(&c->fail_next, __ATOMIC_RELAXED);
    while (left > 0) {
        if (__atomic_compare_exchange_n(&c->fail_next, &left, left - 1, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            goto fail;
    }
    if (c->ppm == 0 || rnd_ppm() >= c->ppm)
        return 0;
fail:
    __atomic_add_fetch(&c->failed, 1, __ATOMIC_RELAXED);
    errno = ENOMEM;
    return 1;
}

void *malloc(size_t n)
{
    if (resolve() != 0)
        return boot_alloc(n);
    return should_fail(n) ? NULL : real_malloc(n);
}

void *calloc(size_t k, size_t n)
{
    if (resolve() != 0)
        return boot_alloc(k * n); /* small and not overflowing: dlsym's */
    if (n && k > SIZE_MAX / n)
        return real_calloc(k, n); /* the real one says no */
    return should_fail(k * n) ? NULL : real_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
    if (resolve() != 0 || from_boot(p)) {
        void *q = resolve() == 0 ? real_malloc(n) : boot_alloc(n);
        if (q && p) {
            size_t have = (size_t)(boot + sizeof(boot) - (unsigned char *)p);
            memcpy(q, p, have < n ? have : n);
        }
        return q;
    }
    if (n > 0 && should_fail(n))
        return NULL;
    return real_realloc(p, n);
}

void free(void *p)
{
    if (p == NULL || from_boot(p))
        return;
    if (resolve() != 0)
        return; /* only while resolving: leak it */
    real_free(p);
}
