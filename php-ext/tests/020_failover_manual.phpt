--TEST--
sentinel: manual failover (SENTINEL FAILOVER): from the first failover event no answer names the old master, the epoch goes up by exactly one, resolve() resumes on the verified new master
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
$e0 = Sentinel\epoch($name, $o);
var_dump($old['epoch'] === $e0);

// Let the watcher subscribe (it is driven by calls, as in a worker). No
// failover yet: the epoch stays.
$moved = 0;
for ($i = 0; $i < 50; $i++) {
    $moved += Sentinel\resolve($name, $o)['epoch'] !== $e0;
    usleep(10000);
}
var_dump($moved);

sn_ctl('failover');
// Until the new master is served: every answer given once the process knew
// of the failover (epoch() moved, or the answer's own epoch did) must not
// name the old master. Bounded in tries and time.
$old_after_event = 0;
$event_seen = false;
$first_new = null;
$errors = [];
$deadline = microtime(true) + 30;
for ($i = 0; $i < 20000 && $first_new === null && microtime(true) < $deadline; $i++) {
    $event_seen = $event_seen || Sentinel\epoch($name, $o) !== $e0;
    try {
        $r = Sentinel\resolve($name, $o);
    } catch (Sentinel\Exception $e) {
        $errors[$e->getCode()] = true; // NOT_MASTER while no new master is verified
        continue;
    }
    if ($r['port'] === $old['port']) {
        $old_after_event += ($event_seen || $r['epoch'] !== $e0);
    } else {
        $first_new = $r;
    }
    usleep(2000);
}
$switched = (int)sn_ctl('wait-switch', (string)$old['port'], '30000');
var_dump($first_new !== null && $first_new['port'] === $switched);
var_dump($old_after_event);
// The first answer naming the new master comes from the failover path (the
// replica Sentinel selected, verified with ROLE master), valid at e0 + 1.
var_dump($first_new['source']);
var_dump($first_new['epoch'] - $e0);
var_dump(array_diff(array_keys($errors), [Sentinel\Exception::NOT_MASTER]));

// Afterwards: the new master every time, the epoch moved exactly once.
$wrong = 0;
for ($i = 0; $i < 50; $i++) {
    $r = Sentinel\resolve($name, $o);
    $wrong += $r['port'] !== $switched || $r['epoch'] !== $e0 + 1;
}
var_dump($wrong);
var_dump(Sentinel\epoch($name, $o) - $e0);
$s = Sentinel\stats();
var_dump($s['watchers'], $s['failover_events']);

// Another process of the host, with no watcher of its own, reads the same
// epoch from the shared cache (no sentinel traffic).
$php = getenv('TEST_PHP_EXECUTABLE') ?: PHP_BINARY;
$args = getenv('TEST_PHP_EXTRA_ARGS') ?: '';
$ini = '';
foreach (['extension', 'sentinel.shared_cache_dir'] as $k) {
    $v = ini_get($k);
    if ($v !== false && $v !== '') {
        $ini .= ' -d ' . escapeshellarg("$k=$v");
    }
}
$code = 'echo Sentinel\epoch(' . var_export($name, true) . ', '
    . var_export(['watch' => false] + $o, true) . '), " ", Sentinel\stats()["sentinel_queries"];';
var_dump(trim((string)shell_exec(escapeshellarg($php) . " $args $ini -r " . escapeshellarg($code) . ' 2>&1'))
    === ($e0 + 1) . ' 0');
?>
--CLEAN--
<?php
require __DIR__ . '/topology.inc';
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
int(0)
bool(true)
int(0)
string(8) "failover"
int(1)
array(0) {
}
int(0)
int(1)
int(1)
int(1)
bool(true)
