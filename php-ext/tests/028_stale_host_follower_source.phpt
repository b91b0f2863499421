--TEST--
sentinel: behind a host follower that stopped beating, resolve() answers from the worker's own cache and says "cache" (the library's sentinel_last_source()); it said "shared" when the extension inferred the source from statistics
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';

/* Stamp a host follower's heartbeat (CLOCK_REALTIME ms; 0 = never) into the
 * shared cache file: the word at byte 32 of the version 1 layout
 * (libsentinel/src/shared_cache_internal.h, sn_shm_file.heartbeat). */
function stamp_heartbeat(string $path, int $ms): void
{
    $f = fopen($path, 'r+b');
    fseek($f, 32);
    fwrite($f, pack('q', $ms));
    fclose($f);
}

$name = sn_master_name();
$o = sn_opts(['shared_cache' => true, 'cache_ttl_ms' => 60000]);

// A forced refresh: the worker's own cache and the host's entry both hold it.
$r = Sentinel\resolve($name, ['no_cache' => true] + $o);
var_dump($r['source']);
$path = null;
foreach (Sentinel\stats()['masters'] as $m) {
    if ($m['master'] === $name && $m['shared_cache'] !== null) {
        $path = $m['shared_cache'];
    }
}
var_dump($path !== null);
stamp_heartbeat($path, 0); // no host follower ever (whatever earlier tests left)
var_dump(Sentinel\resolve($name, $o)['source']);

// A host follower beat 10 s ago and then died: its entry is not relied on;
// the library answers from the worker's own cache, asking nobody.
stamp_heartbeat($path, (int)(microtime(true) * 1000) - 10000);
$before = Sentinel\stats()['sentinel_queries'];
$r2 = Sentinel\resolve($name, $o);
var_dump($r2['source'], $r2['port'] === $r['port']);
var_dump(Sentinel\stats()['sentinel_queries'] === $before);
foreach (Sentinel\stats()['masters'] as $m) {
    if ($m['master'] === $name && $m['shared_cache'] === $path) {
        var_dump($m['last_source']);
    }
}
stamp_heartbeat($path, 0);
?>
--EXPECT--
string(8) "sentinel"
bool(true)
string(6) "shared"
string(5) "cache"
bool(true)
bool(true)
string(5) "cache"
