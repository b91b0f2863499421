--TEST--
sentinel: settings remembered stay remembered when the sentinel.* INI values are back to the ones they were read under (a .user.ini or .htaccess value set at every request's start and restored at its end), and are forgotten when a value differs
--EXTENSIONS--
sentinel
--FILE--
<?php
// No server: a remembered key resolves (and fails: nothing listens on port 1);
// a forgotten one answers false.
function remembered(string $key): bool
{
    try {
        return Sentinel\resolve_remembered($key) !== false;
    } catch (Sentinel\Exception $e) {
        return true;
    }
}
$opts = ['master' => 'mymaster', 'sentinels' => '127.0.0.1:1', 'connect_timeout_ms' => 50, 'timeout_ms' => 100];

// A request: its per-directory value set at its start, settings remembered.
ini_set('sentinel.cache_ttl_ms', '30000');
Sentinel\remember($opts, 'per-dir');
var_dump(remembered('per-dir'));
// Its end restores the value; the next request sets the same value again.
ini_restore('sentinel.cache_ttl_ms');
ini_set('sentinel.cache_ttl_ms', '30000');
var_dump(remembered('per-dir'));
// Another value: forgotten.
ini_set('sentinel.cache_ttl_ms', '20000');
var_dump(remembered('per-dir'));
// Remembered under the default, restored to it: remembered.
ini_restore('sentinel.cache_ttl_ms');
Sentinel\remember($opts, 'per-dir');
ini_set('sentinel.sentinel_password', 'pw');
ini_restore('sentinel.sentinel_password');
var_dump(remembered('per-dir'));
?>
--EXPECT--
bool(true)
bool(true)
bool(false)
bool(true)
