--TEST--
sentinel: master killed: after an error report, resolve returns the promoted replica
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$o = sn_opts(['watch' => true, 'timeout_ms' => 10000]);
$name = sn_master_name();
$old = Sentinel\resolve($name, $o);
file_put_contents(getenv('SENTINEL_TEST_DIR') . '/phpt-killed-port', sn_ctl('kill-master'));

// The client notices the dead master (connection refused) and reports it.
var_dump(Sentinel\report_error($old['host'], $old['port'], 'Connection refused', $name, $o));
$new = sn_resolve_until_not($old['port'], $o);
$switched = (int)sn_ctl('wait-switch', (string)$old['port'], '30000');
var_dump($new['port'] === $switched);
var_dump(Sentinel\resolve($name, $o)['port'] === $switched);
?>
--CLEAN--
<?php
require __DIR__ . '/topology.inc';
$f = getenv('SENTINEL_TEST_DIR') . '/phpt-killed-port';
if (is_file($f)) {
    sn_ctl('restart-node', (string)sn_node_index((int)file_get_contents($f)));
    unlink($f);
}
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
