<?php

/** @generate-class-entries */

namespace Sentinel {

    /**
     * Resolves the current master of a Redis Sentinel deployment.
     *
     * Answers from this worker's memory or the host's shared cache while the
     * answer is fresh (no network traffic); otherwise asks the sentinels in
     * order, verifies the named address with ROLE and caches it. With
     * sentinel.watch on, a failover heard from the sentinels stops the old
     * master from being returned: the call waits up to failover_wait_ms for
     * the new master to be verified, or throws NOT_MASTER.
     *
     * Options override the INI settings for this call: sentinels (string
     * "host:port,host:port" or list of "host:port"), master, connect_timeout_ms,
     * command_timeout_ms, timeout_ms, cache_ttl_ms, failover_wait_ms (ints,
     * milliseconds, 0 to 86400000), sentinel_user, sentinel_password,
     * data_user, data_password (?string), shared_cache, watch, no_cache (bool;
     * no_cache asks the sentinels even when a cached answer is fresh).
     *
     * @param string|null $master the master name; null uses the "master" option,
     *                            then sentinel.master_name
     * @param array|null $options per-call settings, see above
     * @return array with keys host (string), port (int), verified_at_ms (int), source (string),
     *         epoch (int). verified_at_ms is the wall-clock time (ms) the address
     *         answered ROLE master; source is "cache", "shared", "sentinel" or
     *         "failover"; epoch is the failover epoch (see epoch()) at which the
     *         answer is valid: once epoch() returns another value, resolve again
     * @throws Exception with a code from the Exception::* constants
     * @throws \ValueError on an unknown option or an out-of-range value
     */
    function resolve(?string $master = null, ?array $options = null): array {}

    /**
     * The failover epoch of the master as this process knows it: it goes
     * up by exactly one at the first event of each failover of the current
     * master, whether this process's watcher heard it or another process of
     * the host flagged it in the shared cache (then the host's count, kept in
     * the shared cache file, is returned). Read from process and shared
     * memory: no network round trip in steady state. Compare it for
     * equality with the epoch resolve() returned before each write; when it
     * moved, the master the write would go to is being failed over.
     *
     * @param string|null $master as for resolve()
     * @param array|null $options as for resolve()
     * @throws Exception INVALID_ARGUMENT when no master or sentinels are configured
     */
    function epoch(?string $master = null, ?array $options = null): int {}

    /**
     * Forgets the cached master, in this worker and in the host's shared
     * cache. With host and port, forgets it only if the cache still names
     * that address, so a late error about an old master cannot erase a newer
     * answer. Call it on a connection error or a -READONLY reply.
     *
     * @param array|null $options as for resolve()
     * @return bool whether a cached answer was forgotten
     */
    function invalidate(?string $master = null, ?string $host = null, ?int $port = null, ?array $options = null): bool {}

    /**
     * Reports an error seen talking to host:port. Errors meaning the node
     * is no longer a usable master (READONLY, MASTERDOWN, LOADING, lost or
     * refused connections, timeouts) invalidate the cached answer as
     * invalidate() does; other errors (e.g. WRONGTYPE) change nothing.
     *
     * @param array|null $options as for resolve()
     * @return bool whether the error invalidated a cached answer
     */
    function report_error(string $host, int $port, string $error, ?string $master = null, ?array $options = null): bool {}

    /**
     * Counters of this process (an FPM worker keeps them across requests):
     * resolutions (remembered_resolutions of them through
     * resolve_remembered() and cache_options_remembered()),
     * remembered_key_hashes (keys hashed to find remembered settings: an
     * options array equal to a recent one is compared, not hashed), calls
     * (of the other Sentinel\ functions),
     * cache_hits, shared_hits, sentinel_lookups, errors,
     * invalidations, failover_events, failover_waits, failover_fast_fails,
     * role_checks, sentinel_queries, sentinel_failures, handles, watchers,
     * shared_cache_mode ("shared: <file>", "off" or "unavailable: <reason>"
     * when this process could not use the host's shared cache and fell back
     * to its own), and per handle (masters) its name, sentinels, shared cache
     * file and shared_cache_mode, failover epoch, watcher state and last
     * answer.
     *
     * @return array
     */
    function stats(): array {}

    /**
     * Keeps settings for resolve_remembered() for the life of this process
     * (an FPM worker: across requests): the options of resolve(), with the
     * master name as the "master" option, validated as resolve() validates
     * them (the INI settings are read now, not per call; sentinel.* INI
     * values that differ afterwards from the ones read now make
     * resolve_remembered() forget them and answer false). Remembering equal settings again returns the
     * same id. At most 32 per process; one more forgets the least recently
     * used.
     *
     * @param array $settings resolve()'s options plus "master"
     * @param array|string|null $key the caller's own name for these settings
     *        (for example its configuration array as is), which
     *        resolve_remembered() takes in place of the id; kept only as a
     *        keyed 128-bit hash of its contents (an array of scalars and
     *        arrays; an array holding objects names nothing: use the id)
     * @return int the id (1 or more)
     * @throws Exception INVALID_ARGUMENT when no master or sentinels are configured
     * @throws \ValueError on an unknown option or an out-of-range value
     */
    function remember(array $settings, array|string|null $key = null): int {}

    /**
     * resolve() for settings kept by remember(), named by its id or key:
     * no option parsing. The same answer, failover handling, counters and
     * exceptions as resolve().
     *
     * @return array|false keys host, port, epoch, source (as resolve()) and
     *         tls (bool: whether the remembered settings use TLS);
     *         false when this process remembers no such id or key (a new
     *         worker, forgotten for room, or a sentinel.* INI value
     *         differs from the one they were read under): remember() them again
     * @throws Exception with a code from the Exception::* constants
     */
    function resolve_remembered(array|int|string $id): array|false {}

    /**
     * epoch() for settings kept by remember(), named by its id or key: no
     * option parsing (the PHP glue's check before and after each write).
     *
     * @return int|false false as resolve_remembered() answers false
     * @throws Exception with a code from the Exception::* constants
     */
    function epoch_remembered(array|int|string $id): int|false {}

    /**
     * resolve_remembered() for Cm_Cache backend_options remembered under
     * the options array itself (the PHP glue's cache backends), answering
     * what the backend's parent constructor takes: $options without the
     * sentinel keys (sentinel_master, sentinel_master_verify, sentinel,
     * load_from_slaves, load_from_slave, slave_select_callable), with
     * "server" and "port" set to the master's. One call per PHP-FPM
     * request in steady state, with no PHP in between.
     *
     * @param array $options the backend_options
     * @param mixed $master set to resolve_remembered()'s answer plus "id"
     *        (the remembered id, for epoch_remembered()) and "at"
     *        (microtime(true) of the answer)
     * @return array|false false, $master untouched, when $options do not
     *         ask for a sentinel master (empty sentinel_master or server),
     *         ask for load_from_slaves, name settings that use TLS, or name
     *         no settings this process remembers (as resolve_remembered())
     * @throws Exception with a code from the Exception::* constants
     */
    function cache_options_remembered(array $options, &$master = null): array|false {}

    /**
     * Thrown when a master cannot be resolved. getCode() is the libsentinel
     * error code (sentinel_code), one of the constants below.
     */
    class Exception extends \RuntimeException
    {
        /**
         * A bad setting: sentinel list, master name, credentials.
         * @var int
         * @cvalue SENTINEL_ERR_INVALID_ARGUMENT
         */
        public const INVALID_ARGUMENT = UNKNOWN;
        /**
         * @var int
         * @cvalue SENTINEL_ERR_NO_MEMORY
         */
        public const NO_MEMORY = UNKNOWN;
        /**
         * Every sentinel failed to answer.
         * @var int
         * @cvalue SENTINEL_ERR_NO_SENTINEL_REACHABLE
         */
        public const NO_SENTINEL_REACHABLE = UNKNOWN;
        /**
         * Sentinels answered, none knows the master name.
         * @var int
         * @cvalue SENTINEL_ERR_UNKNOWN_MASTER
         */
        public const UNKNOWN_MASTER = UNKNOWN;
        /**
         * A sentinel or the master refused the credentials.
         * @var int
         * @cvalue SENTINEL_ERR_AUTH
         */
        public const AUTH = UNKNOWN;
        /**
         * The address never answered ROLE master, or a failover is in
         * progress and no new master was verified in time.
         * @var int
         * @cvalue SENTINEL_ERR_NOT_MASTER
         */
        public const NOT_MASTER = UNKNOWN;
        /**
         * The total deadline (sentinel.timeout_ms) passed.
         * @var int
         * @cvalue SENTINEL_ERR_TIMEOUT
         */
        public const TIMEOUT = UNKNOWN;
        /**
         * A sentinel or node sent a malformed reply.
         * @var int
         * @cvalue SENTINEL_ERR_PROTOCOL
         */
        public const PROTOCOL = UNKNOWN;
        /**
         * A host name does not resolve.
         * @var int
         * @cvalue SENTINEL_ERR_HOST_UNRESOLVED
         */
        public const HOST_UNRESOLVED = UNKNOWN;
        /**
         * The master named by the sentinels refused or dropped the connection.
         * @var int
         * @cvalue SENTINEL_ERR_MASTER_UNREACHABLE
         */
        public const MASTER_UNREACHABLE = UNKNOWN;
        /**
         * Fewer than the required number of sentinels agreed.
         * @var int
         * @cvalue SENTINEL_ERR_NO_QUORUM
         */
        public const NO_QUORUM = UNKNOWN;
        /**
         * An operating system call failed.
         * @var int
         * @cvalue SENTINEL_ERR_SYSTEM
         */
        public const SYSTEM = UNKNOWN;
        /**
         * TLS setup, handshake or certificate verification failed, or TLS
         * and plaintext ends met (sentinel.tls).
         * @var int
         * @cvalue SENTINEL_ERR_TLS
         */
        public const TLS = UNKNOWN;
    }
}
