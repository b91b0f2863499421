--TEST--
sentinel: processes of one host share one answer through the shared cache
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$o = sn_opts(['shared_cache' => true, 'cache_ttl_ms' => 60000]);
$name = sn_master_name();

// Start from a forgotten entry so this process refreshes it.
Sentinel\invalidate($name, null, null, $o);
$r = Sentinel\resolve($name, $o);
var_dump($r['source']);
$s = Sentinel\stats();
var_dump($s['masters'][0]['shared_cache'] !== null);

// Other processes (fresh PHP, empty worker cache) read the host's answer
// without a single sentinel query.
$php = getenv('TEST_PHP_EXECUTABLE') ?: PHP_BINARY;
$args = getenv('TEST_PHP_EXTRA_ARGS') ?: '';
$code = '$r = Sentinel\resolve(' . var_export($name, true) . ', ' . var_export($o, true) . ');'
    . 'echo $r["source"], " ", $r["port"], " ", Sentinel\stats()["sentinel_queries"], "\n";';
$ini = '';
foreach (['extension', 'sentinel.shared_cache_dir'] as $k) {
    foreach ((array)ini_get_all(null, false) as $key => $v) {
        if ($key === $k && $v !== '' && $v !== false) {
            $ini .= ' -d ' . escapeshellarg("$k=$v");
        }
    }
}
for ($i = 0; $i < 3; $i++) {
    $out = shell_exec(escapeshellarg($php) . " $args $ini -r " . escapeshellarg($code) . ' 2>&1');
    var_dump(trim($out) === "shared {$r['port']} 0");
}
?>
--EXPECT--
string(8) "sentinel"
bool(true)
bool(true)
bool(true)
bool(true)
