--TEST--
sentinel: a process that exits mid-failover leaves the host's "failover in progress" flag; with no host follower beating, a process without a follower (sentinel.watch=off) does not trust it and resolves the new master, and a later process whose follower verified the new master resumes on it (and clears the flag), instead of failing NOT_MASTER until the entry expires
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$name = sn_master_name();
// Long entry TTL: the flag would outlive the whole test.
$o = sn_opts(['shared_cache' => true, 'cache_ttl_ms' => 120000, 'failover_wait_ms' => 1500]);
$old = Sentinel\resolve($name, $o)['port'];   // the host's entry names the old master
$port = (int)sn_ctl('master-port');
var_dump($old === $port ?: "$old vs $port");

$php = getenv('TEST_PHP_EXECUTABLE') ?: PHP_BINARY;
$cmd = escapeshellarg($php) . ' ' . (getenv('TEST_PHP_EXTRA_ARGS') ?: '');
foreach (['extension', 'sentinel.shared_cache_dir'] as $k) {
    $v = ini_get($k);
    if ($v !== false && $v !== '') {
        $cmd .= ' -d ' . escapeshellarg("$k=$v");
    }
}
/** The command running PHP code in another process of the host. */
function child_cmd(string $cmd, string $code, array $opts): string
{
    return $cmd . ' -r ' . escapeshellarg('$o = ' . var_export($opts, true) . '; $n = '
        . var_export(sn_master_name(), true) . '; ' . $code) . ' 2>&1';
}
function child(string $cmd, string $code, array $opts): string
{
    return trim((string)shell_exec(child_cmd($cmd, $code, $opts)));
}

// A process with a follower of its own hears the failover start (it flags the
// old master in the host's cache) and exits right then, before resuming.
$code1 = '
    $e0 = Sentinel\epoch($n, $o);
    for ($i = 0; $i < 100; $i++) { Sentinel\epoch($n, $o); usleep(10000); }   // subscribed
    echo "ready\n";
    $end = microtime(true) + 30;
    for ($i = 0; $i < 100000 && microtime(true) < $end; $i++) {
        if (Sentinel\epoch($n, $o) !== $e0) { echo "flagged\n"; exit(0); }
        usleep(2000);
    }
    echo "no failover event\n";';
$p1 = proc_open(child_cmd($cmd, $code1, ['watch' => true] + $o), [0 => ['file', '/dev/null', 'r'],
    1 => ['pipe', 'w']], $pipes1);
var_dump(trim((string)fgets($pipes1[1])));
sn_ctl('failover');
var_dump(trim((string)stream_get_contents($pipes1[1])));
proc_close($p1);
$new = (int)sn_ctl('wait-switch', (string)$old, '30000');
var_dump($new !== $old);

// With no follower of its own and no host follower beating in the file, a
// process has nobody to vouch for the flag (its setter is gone): it resolves
// as usual and gets the new master, every time (it used to fail NOT_MASTER
// "failover ... in progress" on every call until the entry expired).
$off = child($cmd, '$r = []; for ($i = 0; $i < 3; $i++) { try { $r[] = Sentinel\resolve($n, $o)["port"]; }
    catch (Sentinel\Exception $e) { $r[] = $e->getCode() . " " . $e->getMessage(); } } echo json_encode($r);',
    ['watch' => false] + $o);
var_dump($off === json_encode([$new, $new, $new]) ?: $off);

// A new process with a follower: it verifies the new master; the stale flag
// must not make it fail (a follower that resumes publishes the new master,
// which clears the flag; 027 covers a follower that was FOLLOWING already).
$code = '$r = []; for ($i = 0; $i < 3; $i++) { try { $r[] = Sentinel\resolve($n, $o)["port"]; }
    catch (Sentinel\Exception $e) { $r[] = $e->getMessage(); } } echo json_encode($r);';
$out = child($cmd, $code, ['watch' => true] + $o);
var_dump($out === json_encode([$new, $new, $new]) ?: $out);
// It published the new master: a process without a follower gets it too.
$out = child($cmd, $code, ['watch' => false] + $o);
var_dump($out === json_encode([$new, $new, $new]) ?: $out);
?>
--CLEAN--
<?php
require __DIR__ . '/topology.inc';
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
string(5) "ready"
string(7) "flagged"
bool(true)
bool(true)
bool(true)
bool(true)
