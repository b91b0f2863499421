--TEST--
sentinel: the follower resumes on the new master while the host's cache is locked (publishing fails); the flag left on the old master must not make every later call fail NOT_MASTER until the entry expires
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$name = sn_master_name();
$o = sn_opts(['watch' => true, 'shared_cache' => true, 'cache_ttl_ms' => 120000,
    'failover_wait_ms' => 1500]);
$old = Sentinel\resolve($name, $o)['port'];
var_dump($old === (int)sn_ctl('master-port'));
$e0 = Sentinel\epoch($name, $o);
for ($i = 0; $i < 50; $i++) {   // let the follower subscribe
    Sentinel\epoch($name, $o);
    usleep(10000);
}
$masters = Sentinel\stats()['masters'];
$path = reset($masters)['shared_cache'];

sn_ctl('failover');
// Our follower hears the start and flags the old master host-wide ...
$flagged = false;
$deadline = microtime(true) + 30;
for ($i = 0; $i < 20000 && !$flagged && microtime(true) < $deadline; $i++) {
    $flagged = Sentinel\epoch($name, $o) !== $e0;
    usleep(2000);
}
var_dump($flagged);
// ... then another process keeps the writer lock (flock) while our follower
// resumes on the new master, so publishing it fails: the entry keeps the
// flag on the old master.
$lock = fopen($path, 'r');
var_dump(flock($lock, LOCK_EX));
$new = null;
$deadline = microtime(true) + 30;
for ($i = 0; $i < 20000 && $new === null && microtime(true) < $deadline; $i++) {
    try {
        $r = Sentinel\resolve($name, $o);
        $new = $r['port'] !== $old ? $r['port'] : null;
    } catch (Sentinel\Exception $e) {
    }
    usleep(2000);
}
flock($lock, LOCK_UN);
fclose($lock);
var_dump($new === (int)sn_ctl('wait-switch', (string)$old, '30000'));

// The lock is free again. Before the fix every call waited failover_wait_ms
// and failed NOT_MASTER (the follower was FOLLOWING already, nothing ended
// the wait) until the entry expired (cache_ttl_ms).
$answers = [];
for ($i = 0; $i < 3; $i++) {
    try {
        $answers[] = Sentinel\resolve($name, $o)['port'] === $new;
    } catch (Sentinel\Exception $e) {
        $answers[] = $e->getMessage();
    }
}
var_dump($answers);
// And the new master is published for the host: a process without a
// follower of its own is served it.
$php = getenv('TEST_PHP_EXECUTABLE') ?: PHP_BINARY;
$cmd = escapeshellarg($php) . ' ' . (getenv('TEST_PHP_EXTRA_ARGS') ?: '');
foreach (['extension', 'sentinel.shared_cache_dir'] as $k) {
    $v = ini_get($k);
    if ($v !== false && $v !== '') {
        $cmd .= ' -d ' . escapeshellarg("$k=$v");
    }
}
$code = 'try { echo Sentinel\resolve(' . var_export($name, true) . ', '
    . var_export(['watch' => false] + $o, true) . ')["port"]; } catch (Exception $e) { echo $e->getMessage(); }';
$out = trim((string)shell_exec($cmd . ' -r ' . escapeshellarg($code) . ' 2>&1'));
var_dump($out === (string)$new ?: $out);
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
bool(true)
array(3) {
  [0]=>
  bool(true)
  [1]=>
  bool(true)
  [2]=>
  bool(true)
}
bool(true)
