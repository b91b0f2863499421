--TEST--
bindings: backends and session handlers built per request lose no acknowledged write across a killed master
--DESCRIPTION--
Loss table (issue 14, point 4): per-request objects x kill. Every save() and session write()
that answered true must be on the final master.
--EXTENSIONS--
sentinel
redis
--SKIPIF--
<?php require __DIR__ . '/../../bindings/bootstrap.inc'; sn_skip_without_topology(true); ?>
--INI--
sentinel.watch=1
sentinel.failover_wait_ms=3000
--FILE--
<?php
require __DIR__ . '/../../bindings/bootstrap.inc';
require __DIR__ . '/../../bindings/session_config.inc';
require __DIR__ . '/../../bindings/failover_loop.inc';

$class = LibSentinel\Magento\Cache\SentinelBackend::class;
$r = sn_reused_objects_loop($class, ['kill-master', 'wait-switch OLD 30000', 'restart-node OLDIDX', 'demote-old-masters'], 40, true);
sn_loss_report('per-request', 'kill', $class, $r);
var_dump($r['switched'], $r['cache_acked'] > 0, $r['session_acked'] > 0);
echo "cache writes lost: {$r['cache_lost']}, session writes lost: {$r['session_lost']}\n";
?>
--CLEAN--
<?php
require __DIR__ . '/../../bindings/bootstrap.inc';
sn_ctl('thaw-all');
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
cache writes lost: 0, session writes lost: 0
