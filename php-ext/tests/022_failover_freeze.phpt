--TEST--
sentinel: master frozen (SIGSTOP): resolve moves to the promoted replica without waiting on TCP timeouts
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$o = sn_opts(['watch' => true, 'timeout_ms' => 10000, 'cache_ttl_ms' => 500]);
$name = sn_master_name();
$old = Sentinel\resolve($name, $o);
sn_ctl('freeze-master');

// Once the short TTL passes, resolution verifies with ROLE and skips the
// frozen node (bounded by the command timeout), until the sentinels promote.
$new = sn_resolve_until_not($old['port'], $o);
$switched = (int)sn_ctl('wait-switch', (string)$old['port'], '30000');
var_dump($new['port'] === $switched);
var_dump(Sentinel\resolve($name, $o)['port'] === $switched);
?>
--CLEAN--
<?php
require __DIR__ . '/topology.inc';
sn_ctl('thaw-all');
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
