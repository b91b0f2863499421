/* One resolution: settings from INI and per-call options, then the handle. */
#ifndef SENTINEL_RESOLVE_H
#define SENTINEL_RESOLVE_H

#include "php.h"
#include "zend_smart_str.h"

#include "sentinel_registry.h"

/* Settings for one call plus the buffers they point into. */
typedef struct sn_php_call {
    sn_php_settings cfg;
    smart_str sentinels_buf; /* an array of sentinels joined with commas */
} sn_php_call;

/*
 * Fills call from INI, then options (arg_num is the options argument's
 * position, for error messages), then an explicit master name. Throws and
 * returns FAILURE on an unknown option, a wrong type or an out-of-range
 * value (ValueError / TypeError), or when no master or no sentinels are
 * configured (Sentinel\Exception INVALID_ARGUMENT). Free with
 * sn_php_call_free() either way.
 */
zend_result sn_php_call_init(sn_php_call *call, zend_string *master, HashTable *options,
                             uint32_t arg_num);
void sn_php_call_free(sn_php_call *call);

/* Resolve for cfg. SENTINEL_OK with *out, *source ("cache", "shared",
 * "sentinel", "failover") and *epoch (the failover epoch the answer is valid
 * at, see sn_php_epoch()), or an error code with err filled. */
int sn_php_resolve(const sn_php_settings *cfg, sentinel_addr *out, const char **source,
                   uint64_t *epoch, char *err, size_t errlen);

/* The failover epoch of cfg's master as this process knows it (no network
 * in steady state: a drain of the watcher, a read of the shared cache).
 * SENTINEL_OK, or an error code with err filled when cfg is refused. */
int sn_php_epoch_of(const sn_php_settings *cfg, uint64_t *epoch, char *err, size_t errlen);

/* Forget the cached answer, in this worker and in the shared cache, if it
 * still names host:port (host NULL: whatever it names). SENTINEL_OK with
 * *forgot set, or an error code with err filled when the settings are
 * refused. */
int sn_php_invalidate(const sn_php_settings *cfg, const char *host, zend_long port,
                      bool *forgot, char *err, size_t errlen);

/* Whether an error message from a Redis client means "this node is no
 * longer a usable master" (READONLY, MASTERDOWN, LOADING, lost connection). */
bool sn_php_error_means_switch(const char *msg, size_t len);

#endif
