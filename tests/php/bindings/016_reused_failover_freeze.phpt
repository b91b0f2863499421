--TEST--
bindings: one cache backend (Cm variant) and one session handler reused across a frozen master lose no acknowledged write
--DESCRIPTION--
The master is frozen (SIGSTOP) until the sentinels promote a replica, then thawed:
the writes in flight are acknowledged by the old master after the promotion. The
fence after each write sees that the master changed and re-applies them on the new
one (cache save and session write are idempotent).
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

$class = LibSentinel\Magento\Cache\CmSentinelBackend::class;
$r = sn_reused_objects_loop($class,
    ['freeze-master', 'wait-switch OLD 30000', 'thaw-all', 'demote-old-masters']);
sn_loss_report('reused', 'freeze', $class, $r);
var_dump($r['switched'], $r['cache_acked'] > 0, $r['session_acked'] > 0);
echo "cache writes lost: {$r['cache_lost']}, session writes lost: {$r['session_lost']}\n";
?>
--CLEAN--
<?php
require __DIR__ . '/bootstrap.inc';
sn_ctl('thaw-all');
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
cache writes lost: 0, session writes lost: 0
