--TEST--
sentinel: manual failover (SENTINEL FAILOVER): the watcher moves resolve to the new master
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$o = sn_opts(['watch' => true, 'shared_cache' => true, 'failover_wait_ms' => 2000]);
$name = sn_master_name();
$old = Sentinel\resolve($name, $o);
var_dump($old['port'] === (int)sn_ctl('master-port'));

// Let the watcher subscribe (it is driven by resolve calls, as in a worker).
for ($i = 0; $i < 50; $i++) {
    Sentinel\resolve($name, $o);
    usleep(10000);
}
sn_ctl('failover');
$new = sn_resolve_until_not($old['port'], $o);
$switched = (int)sn_ctl('wait-switch', (string)$old['port'], '30000');
var_dump($new['port'] === $switched);
var_dump($new['source'] === 'failover' || $new['source'] === 'sentinel' || $new['source'] === 'shared');

// Every later answer is the new master.
$wrong = 0;
for ($i = 0; $i < 50; $i++) {
    $wrong += Sentinel\resolve($name, $o)['port'] !== $switched;
}
var_dump($wrong);
$s = Sentinel\stats();
var_dump($s['watchers'], $s['failover_events'] >= 1);
?>
--CLEAN--
<?php
require __DIR__ . '/topology.inc';
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
int(0)
int(1)
bool(true)
