--TEST--
sentinel: all sentinels down: the cached master is served until its TTL, then a clear exception
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$ttl = 5000; // generous: valgrind runs this test too
$o = sn_opts(['cache_ttl_ms' => $ttl, 'timeout_ms' => 1000, 'connect_timeout_ms' => 100,
              'command_timeout_ms' => 100]);
$name = sn_master_name();
$r = Sentinel\resolve($name, $o);
$t0 = microtime(true);
sn_ctl('kill-all-sentinels');

// Within the TTL: the cached answer, no exception.
$served = Sentinel\resolve($name, $o);
var_dump($served['port'] === $r['port'], $served['source']);
var_dump(microtime(true) - $t0 < $ttl / 1000); // else the check above proved nothing

// Forcing a lookup fails with a clear error (and does not drop the answer).
try {
    Sentinel\resolve($name, $o + ['no_cache' => true]);
    echo "resolved?\n";
} catch (Sentinel\Exception $e) {
    var_dump(in_array($e->getCode(), [Sentinel\Exception::NO_SENTINEL_REACHABLE, Sentinel\Exception::TIMEOUT], true));
    echo $e->getMessage() !== '' ? "message\n" : "empty message\n";
}

// After the TTL: the exception reaches the caller, after the deadline.
usleep((int)(($ttl + 200) * 1000 - (microtime(true) - $t0) * 1e6));
$t1 = microtime(true);
try {
    Sentinel\resolve($name, $o);
    echo "resolved?\n";
} catch (Sentinel\Exception $e) {
    var_dump(in_array($e->getCode(), [Sentinel\Exception::NO_SENTINEL_REACHABLE, Sentinel\Exception::TIMEOUT], true));
    var_dump(str_contains($e->getMessage(), '127.0.0.1'));
}
?>
--CLEAN--
<?php
require __DIR__ . '/topology.inc';
sn_ctl('restart-all-sentinels');
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
string(5) "cache"
bool(true)
bool(true)
message
bool(true)
bool(true)
