/* INI settings of the extension: entries, validators, displayers. */
#ifndef SENTINEL_INI_H
#define SENTINEL_INI_H

#include "php.h"

/* Largest millisecond value the library accepts (one day). */
#define SN_PHP_MS_MAX 86400000

/* What 0 means for the millisecond settings that have a library default
 * (libsentinel's, sentinel.h): the extension uses the same figures where it
 * needs the value itself (ROLE probes, pinning, shared cache entries).
 * failover_wait_ms has none: 0 there means "fail fast". */
#define SN_PHP_DEFAULT_CONNECT_MS 250
#define SN_PHP_DEFAULT_COMMAND_MS 250
#define SN_PHP_DEFAULT_TOTAL_MS 5000
#define SN_PHP_DEFAULT_TTL_MS 60000

/* A fingerprint of the values of every sentinel.* INI setting now (a keyed
 * hash: no password in it), recomputed after an accepted change (ini_set(),
 * per-directory values, their restore at the end of a request): remembered
 * settings read under another fingerprint are rebuilt; values back to the
 * ones they were read under (a .user.ini value set again at every request)
 * keep them. */
uint64_t sn_php_ini_fingerprint(void);

void sn_php_ini_register(int module_number, int type);
void sn_php_ini_unregister(int module_number, int type);
/* Prints the INI table in phpinfo(), with passwords shown as "(set)". */
void sn_php_ini_display(zend_module_entry *zend_module);

/* Shared with per-call option parsing: "0".."86400000" only. */
bool sn_php_parse_ms(const char *s, size_t len, zend_long *out);
/* TLS file settings: "" or an absolute path without NUL or line breaks
 * (existence is checked by the library when TLS is turned on). */
bool sn_php_valid_tls_path(const char *v, size_t len);
/* sentinel.tls_server_name: "" or at most 255 printable characters, no spaces. */
bool sn_php_valid_tls_name(const char *v, size_t len);
/* sentinel.tls_min_version and the option: "1.2" or "1.3" exactly ->
 * SENTINEL_TLS_V1_2 / SENTINEL_TLS_V1_3; 0 for anything else. */
int sn_php_parse_tls_version(const char *v, size_t len);
/* The effective watch setting (resolves "auto" against the SAPI). */
bool sn_php_watch_enabled(zend_long setting);

#endif
