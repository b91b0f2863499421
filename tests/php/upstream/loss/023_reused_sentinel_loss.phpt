--TEST--
bindings: one cache backend and one session handler reused while the preferred sentinel is lost and a failover follows lose no acknowledged write
--DESCRIPTION--
Loss table (issue 14, point 4): reused objects x sentinel-loss. Every save() and session write()
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

$class = LibSentinel\Magento\Cache\CmSentinelBackend::class;
$r = sn_reused_objects_loop($class, ['kill-sentinel 0', 'sleep 1', 'failover', 'wait-switch OLD 30000'], 40, false);
sn_loss_report('reused', 'sentinel-loss', $class, $r);
var_dump($r['switched'], $r['cache_acked'] > 0, $r['session_acked'] > 0);
echo "cache writes lost: {$r['cache_lost']}, session writes lost: {$r['session_lost']}\n";
?>
--CLEAN--
<?php
require __DIR__ . '/../../bindings/bootstrap.inc';
sn_ctl('restart-sentinel', '0');
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
cache writes lost: 0, session writes lost: 0
