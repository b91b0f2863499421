--TEST--
sentinel: every INI setting is validated the same way (booleans, shared cache group and mode, credentials); 0 means what the README says
--EXTENSIONS--
sentinel
--INI--
sentinel.shared_cache=maybe
sentinel.shared_cache_mode=0644
sentinel.shared_cache_group=no-such-group-sentinel-test
sentinel.connect_timeout_ms=0
sentinel.failover_wait_ms=0
--FILE--
<?php
// Startup: refused, defaults kept.
var_dump(ini_get('sentinel.shared_cache'), ini_get('sentinel.shared_cache_mode'),
         ini_get('sentinel.shared_cache_group'));
// 0 is a value, not a mistake: accepted as given.
var_dump(ini_get('sentinel.connect_timeout_ms'), ini_get('sentinel.failover_wait_ms'));

// Runtime: a boolean that is not one is refused like any other bad value.
var_dump(ini_set('sentinel.shared_cache', 'maybe'));
var_dump(ini_set('sentinel.shared_cache', '2'));
var_dump(ini_get('sentinel.shared_cache'));
foreach (['off', 'On', 'no', 'TRUE', '0', '1', ''] as $v) {
    echo $v, ': ', var_export(ini_set('sentinel.shared_cache', $v) !== false, true), "\n";
}
var_dump(ini_set('sentinel.watch', 'maybe'));

// Credentials: no line breaks, and the value is never repeated.
var_dump(ini_set('sentinel.data_password', "pa\r\nss"));
var_dump(ini_set('sentinel.sentinel_user', str_repeat('u', 1025)));
var_dump(ini_set('sentinel.data_password', 'fine'));

// The shared cache's mode and group are system settings.
var_dump(ini_set('sentinel.shared_cache_mode', '0660'));
var_dump(ini_set('sentinel.shared_cache_group', 'root'));
var_dump(ini_set('sentinel.watch_poll_ms', '0'));
?>
--EXPECTF--
Warning: PHP Startup: Invalid value 'maybe' for sentinel.shared_cache: expected on or off (1/0, yes/no, true/false); keeping the default in %s on line %d

Warning: PHP Startup: Invalid value 'no-such-group-sentinel-test' for sentinel.shared_cache_group: no such group; keeping the default in %s on line %d

Warning: PHP Startup: Invalid value '0644' for sentinel.shared_cache_mode: expected 0600 or 0660; keeping the default in %s on line %d
string(1) "1"
string(4) "0600"
string(0) ""
string(1) "0"
string(1) "0"

Warning: ini_set(): Invalid value 'maybe' for sentinel.shared_cache: expected on or off (1/0, yes/no, true/false); keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '2' for sentinel.shared_cache: expected on or off (1/0, yes/no, true/false); keeping the previous value in %s on line %d
bool(false)
string(1) "1"
off: true
On: true
no: true
TRUE: true
0: true
1: true
: true

Warning: ini_set(): Invalid value 'maybe' for sentinel.watch: expected auto, on or off; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value for sentinel.data_password: expected at most 1024 characters without line breaks; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value for sentinel.sentinel_user: expected at most 1024 characters without line breaks; keeping the previous value in %s on line %d
bool(false)
string(0) ""
bool(false)
bool(false)
bool(false)
