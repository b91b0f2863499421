/*
 * Remembered settings: the fast path for callers that resolve the same
 * settings on every request (bindings/php builds a cache backend per PHP-FPM
 * request). Sentinel\remember() validates the settings once per process and
 * keeps them; Sentinel\resolve_remembered() answers from them with no option
 * parsing, through the same resolution as Sentinel\resolve().
 */
#ifndef SENTINEL_FAST_H
#define SENTINEL_FAST_H

/* At most this many remembered settings per process; remembering one more
 * forgets the least recently used (its id then answers false). */
#define SN_PHP_FAST_MAX 32

/* Interns the answer's keys (MINIT). */
void sn_php_fast_startup(void);

/* Frees every remembered setting (process shutdown). */
void sn_php_fast_shutdown(void);

#endif
