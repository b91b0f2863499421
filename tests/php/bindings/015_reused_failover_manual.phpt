--TEST--
bindings: one cache backend and one session handler reused across a manual failover lose no acknowledged write
--DESCRIPTION--
Regression (issue 14, point 4): a backend object used across a failover (cron,
indexers, consumers) kept writing to the old master and lost thousands of
acknowledged saves. Fenced operations check before each one that the master is
still current, and re-apply a write acknowledged after a failover began.
--EXTENSIONS--
sentinel
redis
--SKIPIF--
<?php require __DIR__ . '/bootstrap.inc'; sn_skip_without_topology(true); ?>
--INI--
sentinel.watch=1
sentinel.failover_wait_ms=3000
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
require __DIR__ . '/session_config.inc';
require __DIR__ . '/failover_loop.inc';

$class = LibSentinel\Magento\Cache\SentinelBackend::class;
$r = sn_reused_objects_loop($class, ['failover', 'wait-switch OLD 30000']);
sn_loss_report('reused', 'manual', $class, $r);
var_dump($r['switched'], $r['cache_acked'] > 0, $r['session_acked'] > 0);
echo "cache writes lost: {$r['cache_lost']}, session writes lost: {$r['session_lost']}\n";
?>
--CLEAN--
<?php
require __DIR__ . '/bootstrap.inc';
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
cache writes lost: 0, session writes lost: 0
