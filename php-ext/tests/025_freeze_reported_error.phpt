--TEST--
sentinel: master frozen and reported (a write timed out) before any failover event: the next resolve() drives the follower, hears the failover start and returns the verified new master from the failover path (not a blocking resolution that hears nothing)
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$o = sn_opts(['watch' => true, 'shared_cache' => true, 'timeout_ms' => 20000,
              'failover_wait_ms' => 20000]);
$name = sn_master_name();
$old = Sentinel\resolve($name, $o);
$e0 = Sentinel\epoch($name, $o);
// Let the follower subscribe (it is driven by calls, as in a worker).
for ($i = 0; $i < 50; $i++) {
    Sentinel\resolve($name, $o);
    usleep(10000);
}
var_dump(Sentinel\stats()['masters'][0]['follow_state']);

sn_ctl('freeze-master');
// A write to it timed out: reported at once, long before Sentinel notices.
var_dump(Sentinel\report_error($old['host'], $old['port'], 'read error on connection', $name, $o));
// One call: it waits (timeout_ms, then failover_wait_ms) for a verified master.
try {
    $r = Sentinel\resolve($name, $o);
} catch (Sentinel\Exception $e) {
    $r = ['port' => 0, 'source' => 'exception ' . $e->getMessage(), 'epoch' => $e0];
}
$switched = (int)sn_ctl('wait-switch', (string)$old['port'], '30000');
var_dump($r['port'] === $switched);
var_dump($r['source']);
var_dump($r['epoch'] - $e0);
?>
--CLEAN--
<?php
require __DIR__ . '/topology.inc';
sn_ctl('thaw-all');
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
string(9) "following"
bool(true)
bool(true)
string(8) "failover"
int(1)
