/*
 * oom_shim: out-of-memory on command, for the differential fuzzer (issue
 * 10). liboom_shim.so, preloaded into a dynamically linked sentinel-proxy
 * (sentinel-proxy-dyn; LD_PRELOAD, OOM_SHIM_FILE=PATH), makes malloc,
 * calloc and realloc return NULL (errno ENOMEM) when the control file
 * PATH says so. The file holds one struct oom_shim_ctl, mapped shared by
 * the shim (when the process starts: a missing or short file means never)
 * and by the controller (diff-fuzz), so arming and disarming cost no
 * system call on either side and take effect at the next allocation.
 *
 * While armed, an allocation of at least min_size bytes fails if
 * fail_next > 0 (then decremented: "fail the next N allocations of size
 * >= S"), otherwise with probability ppm / 1e6; until_ms (CLOCK_MONOTONIC
 * milliseconds, 0 = no limit) ends the window on its own. Off by default:
 * the dynamic loader and libc's start-up run before the file is mapped.
 * free() of what was allocated is never affected.
 */
#ifndef OOM_SHIM_H
#define OOM_SHIM_H

#include <stdint.h>

#define OOM_SHIM_MAGIC 0x6f6f6d31u /* "oom1" */

struct oom_shim_ctl {
    uint32_t magic;    /* OOM_SHIM_MAGIC, or the shim ignores the file */
    uint32_t armed;    /* 0: never fail */
    uint64_t min_size; /* only allocations of at least this many bytes */
    int64_t fail_next; /* fail the next N of them ... */
    uint32_t ppm;      /* ... then each with probability ppm / 1e6 ... */
    uint32_t pad;
    int64_t until_ms;  /* ... until this CLOCK_MONOTONIC time (0: no limit) */
    uint64_t seen;     /* out: allocations that qualified while armed */
    uint64_t failed;   /* out: allocations failed */
};

#endif
