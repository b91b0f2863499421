--TEST--
sentinel: all sentinels down: the cache, then the last verified master while it answers ROLE master; with no history a clear exception
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

// Forcing a lookup: no sentinel answers, so the last verified master is
// checked with ROLE again and, still a master, served.
$forced = Sentinel\resolve($name, $o + ['no_cache' => true]);
var_dump($forced['port'] === $r['port']);

// After the TTL: the same, as long as it answers ROLE master.
usleep((int)(($ttl + 200) * 1000 - (microtime(true) - $t0) * 1e6));
$late = Sentinel\resolve($name, $o);
var_dump($late['port'] === $r['port']);

// A handle with no history (another sentinel list, so another handle) has
// nothing to fall back on: the exception reaches the caller, after the deadline.
$reversed = implode(',', array_reverse(explode(',', getenv('SENTINEL_TEST_SENTINELS'))));
try {
    Sentinel\resolve($name, sn_opts(['sentinels' => $reversed, 'timeout_ms' => 700,
                                      'connect_timeout_ms' => 100, 'command_timeout_ms' => 100]));
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
bool(true)
bool(true)
bool(true)
