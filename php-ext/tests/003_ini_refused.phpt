--TEST--
sentinel: bad INI values are refused with a warning and never used
--EXTENSIONS--
sentinel
--INI--
sentinel.sentinels=not-a-list
sentinel.connect_timeout_ms=-5
sentinel.watch=sometimes
sentinel.master_name=mymaster
sentinel.data_password=s3cret
--FILE--
<?php
// Startup values that were refused fell back to the defaults.
var_dump(ini_get('sentinel.sentinels'), ini_get('sentinel.connect_timeout_ms'), ini_get('sentinel.watch'));

// Runtime: refused, old value kept.
var_dump(ini_set('sentinel.timeout_ms', '-1'));
var_dump(ini_set('sentinel.timeout_ms', '10s'));
var_dump(ini_set('sentinel.cache_ttl_ms', '86400001'));
var_dump(ini_set('sentinel.failover_wait_ms', ' 5'));
var_dump(ini_get('sentinel.timeout_ms'), ini_get('sentinel.cache_ttl_ms'), ini_get('sentinel.failover_wait_ms'));
var_dump(ini_set('sentinel.sentinels', '127.0.0.1:0'));
var_dump(ini_set('sentinel.sentinels', '[::1:26379'));
var_dump(ini_set('sentinel.master_name', 'has space'));
var_dump(ini_get('sentinel.sentinels'), ini_get('sentinel.master_name'));

// Good values are accepted.
var_dump(ini_set('sentinel.sentinels', '127.0.0.1:26379, [::1]:26380 localhost:26381'));
var_dump(ini_set('sentinel.timeout_ms', '1500'), ini_get('sentinel.timeout_ms'));
var_dump(ini_set('sentinel.watch', 'on'), ini_get('sentinel.watch'));

// The cache directory is a system setting.
var_dump(ini_set('sentinel.shared_cache_dir', '/tmp'));

// Passwords are never printed.
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
var_dump(str_contains($info, 's3cret'));
preg_match('/sentinel\.data_password => (\S+)/', $info, $m);
var_dump($m[1]);
?>
--EXPECTF--
Warning: PHP Startup: Invalid value 'not-a-list' for sentinel.sentinels: bad address 'not-a-list': expected HOST:PORT; keeping the default in %s on line %d

Warning: PHP Startup: Invalid value '-5' for sentinel.connect_timeout_ms: expected milliseconds from 0 to 86400000; keeping the default in %s on line %d

Warning: PHP Startup: Invalid value 'sometimes' for sentinel.watch: expected auto, on or off; keeping the default in %s on line %d
string(0) ""
string(3) "250"
string(2) "on"

Warning: ini_set(): Invalid value '-1' for sentinel.timeout_ms: expected milliseconds from 0 to 86400000; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '10s' for sentinel.timeout_ms: expected milliseconds from 0 to 86400000; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '86400001' for sentinel.cache_ttl_ms: expected milliseconds from 0 to 86400000; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value ' 5' for sentinel.failover_wait_ms: expected milliseconds from 0 to 86400000; keeping the previous value in %s on line %d
bool(false)
string(4) "5000"
string(5) "60000"
string(4) "1000"

Warning: ini_set(): Invalid value '127.0.0.1:0' for sentinel.sentinels: bad port in '127.0.0.1:0': expected 1-65535; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '[::1:26379' for sentinel.sentinels: bad address '[::1:26379': expected [IPv6]:PORT; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value 'has space' for sentinel.master_name: a master name is 1 to 200 printable characters without spaces (byte 0x20 at offset 3); keeping the previous value in %s on line %d
bool(false)
string(0) ""
string(8) "mymaster"
string(0) ""
string(4) "5000"
string(4) "1500"
string(2) "on"
string(2) "on"
bool(false)
bool(false)
string(5) "(set)"
