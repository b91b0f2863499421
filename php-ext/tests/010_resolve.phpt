--TEST--
sentinel: resolve returns the verified master, then serves it from the cache
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$master = (int)sn_ctl('master-port');

$r = Sentinel\resolve(sn_master_name(), sn_opts());
var_dump($r['host'], $r['port'] === $master, $r['source']);
var_dump(abs($r['verified_at_ms'] - (int)(microtime(true) * 1000)) < 60000);

// Steady state: no sentinel round trip.
$before = Sentinel\stats()['sentinel_queries'];
for ($i = 0; $i < 100; $i++) {
    $r = Sentinel\resolve(sn_master_name(), sn_opts());
    if ($r['port'] !== $master || $r['source'] !== 'cache') {
        echo "unexpected answer: ", json_encode($r), "\n";
    }
}
var_dump(Sentinel\stats()['sentinel_queries'] - $before);

// INI instead of options (same handle: answered from this worker's cache).
ini_set('sentinel.sentinels', getenv('SENTINEL_TEST_SENTINELS'));
ini_set('sentinel.master_name', sn_master_name());
ini_set('sentinel.shared_cache', '0');
$r = Sentinel\resolve();
var_dump($r['port'] === $master);

// A list of sentinels works as well as a string; no_cache asks again.
$list = explode(',', getenv('SENTINEL_TEST_SENTINELS'));
$r = Sentinel\resolve(sn_master_name(), sn_opts(['sentinels' => $list, 'no_cache' => true]));
var_dump($r['port'] === $master, $r['source']);

$s = Sentinel\stats();
var_dump($s['resolutions'], $s['sentinel_lookups'], $s['errors']);
?>
--EXPECT--
string(9) "127.0.0.1"
bool(true)
string(8) "sentinel"
bool(true)
int(0)
bool(true)
bool(true)
string(8) "sentinel"
int(103)
int(2)
int(0)
