--TEST--
bindings: SentinelHandler (Cm\RedisSession\Handler) retries a session read/write once on READONLY or a lost connection, loses no acknowledged session write in a manual failover
--DESCRIPTION--
The parent is the stand-in of Cm\RedisSession\Handler in tests/php/stubs/RedisSession.inc
(upstream's constructor and read/write/destroy/gc/close contract, documented there), talking
to real Redis nodes of the topology through the Credis_Client stand-in.
Part 1 injects a MasterLocator whose answers are scripted (resolve / report counters);
part 2 uses the extension itself across a manual SENTINEL FAILOVER.
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
use LibSentinel\Magento\MasterLocator;
use LibSentinel\Magento\SentinelSettings;
use LibSentinel\Magento\Session\SentinelHandler;
use LibSentinel\Magento\Session\SentinelSaveHandler;

require __DIR__ . '/session_config.inc';
$env = sn_session_env();
$config = new ArrayConfig($env);
$sid = 't012-' . getmypid() . '-' . mt_rand() . '-';   // session ids of this run
$masterPort = (int)sn_ctl('master-port');
$replicaPort = 0;
foreach (explode(',', getenv('SENTINEL_TEST_NODE_PORTS')) as $p) {
    if ((int)$p !== $masterPort) { $replicaPort = (int)$p; break; }
}
$admin = new Redis();
$admin->connect('127.0.0.1', $masterPort);
$admin->select(2);

// ---- Part 1: scripted locator -----------------------------------------
$answers = [];   // what resolve returns, front first; a "switch" report drops the front
$resolves = 0;
$reports = [];
$locator = new MasterLocator(
    new SentinelSettings(['127.0.0.1:1'], 'scripted'),
    function (string $m, array $o) use (&$answers, &$resolves) { $resolves++; return $answers[0]; },
    function (string $h, int $p, string $e, string $m, array $o) use (&$answers, &$reports): bool {
        $switch = (bool)preg_match('/^READONLY|connection|went away|read error|unable to connect/i', $e);
        $reports[] = sprintf('%s %s', $p === $GLOBALS['masterPort'] ? 'master' : ($p === $GLOBALS['replicaPort'] ? 'replica' : 'other'),
            $switch ? 'switch' : 'keep');
        if ($switch && count($answers) > 1) {
            array_shift($answers);
        }
        return $switch;
    },
    fn(string $m, array $o): int => 0,   // failover epoch: no failover during part 1
);
$where = fn(SentinelHandler $h) => $h->getSentinelMaster()['port'] === $masterPort ? 'master'
    : ($h->getSentinelMaster()['port'] === $replicaPort ? 'replica' : 'other');

echo "-- READONLY on write\n";
$answers = [['host' => '127.0.0.1', 'port' => $replicaPort], ['host' => '127.0.0.1', 'port' => $masterPort]];
$log = new TestLogger();
$h = new SentinelHandler($config, $log, false, $locator);
echo "connected to ", $where($h), ", resolves=$resolves\n";
var_dump($h->write($sid . 'w', 'a|s:5:"hello";'));
echo "now on ", $where($h), ", resolves=$resolves, reports=", implode(',', $reports), "\n";
echo "logged: ", implode(' / ', array_map(fn($s) => substr($s, 0, 40), $log->exceptions)), "\n";
var_dump($admin->hGet('sess_' . $sid . 'w', 'data'));
// A later read/write of this request goes to the new master without further resolving.
var_dump($h->read($sid . 'w'), $h->write($sid . 'w', 'a|s:3:"bye";'), $resolves);

echo "-- connection error on read\n";
// A throwaway redis-server is the "old master": connected, then shut down.
$s = stream_socket_server('tcp://127.0.0.1:0');
$oldPort = (int)explode(':', stream_socket_get_name($s, false))[1];
fclose($s);
$proc = proc_open(['redis-server', '--port', (string)$oldPort, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
for ($i = 0; $i < 200; $i++) {
    $c = @fsockopen('127.0.0.1', $oldPort, $errno, $errstr, 0.1);
    if ($c) { fclose($c); break; }
    usleep(20000);
}
$resolves = 0; $reports = [];
$answers = [['host' => '127.0.0.1', 'port' => $oldPort], ['host' => '127.0.0.1', 'port' => $masterPort]];
$h = new SentinelHandler($config, new TestLogger(), false, $locator);
echo "connected to ", $where($h), ", resolves=$resolves\n";
$down = new Redis();
$down->connect('127.0.0.1', $oldPort);
try { $down->rawCommand('SHUTDOWN', 'NOSAVE'); } catch (RedisException $e) {}
proc_close($proc);
$before = $h->getConnection();
var_dump($h->read($sid . 'w'));
echo "now on ", $where($h), ", resolves=$resolves, reports=", implode(',', $reports),
    ", new connection=", var_export($h->getConnection() !== $before, true), "\n";

echo "-- a non-retryable error propagates\n";
$resolves = 0; $reports = [];
$answers = [['host' => '127.0.0.1', 'port' => $masterPort]];
$admin->set('sess_' . $sid . 'bad', 'not a hash');
$log = new TestLogger();
$h = new SentinelHandler($config, $log, false, $locator);
try {
    $h->read($sid . 'bad');
    echo "read did not fail?\n";
} catch (CredisException $e) {
    echo "read threw: ", substr($e->getMessage(), 0, 9), "\n";
}
echo "resolves=$resolves, reports=", implode(',', $reports), "\n";
$reports = [];
var_dump($h->write($sid . 'bad', 'x'));   // the parent's contract: logged, false, never thrown
echo "resolves=$resolves, reports=", implode(',', $reports), ", logged: ", substr($log->exceptions[0] ?? '', 0, 25), "\n";
// ... and a second failure is not retried again.
$resolves = 0; $reports = [];
$answers = [['host' => '127.0.0.1', 'port' => $replicaPort], ['host' => '127.0.0.1', 'port' => $replicaPort]];
$h = new SentinelHandler($config, new TestLogger(), false, $locator);
try {
    $h->read($sid . 'w');
} catch (CredisException $e) {
    echo "second READONLY propagated: ", substr($e->getMessage(), 0, 8), "\n";
}
echo "resolves=$resolves, reports=", implode(',', $reports), "\n";

// ---- Part 2: the extension, the save handler Magento would create -------
echo "-- SentinelSaveHandler through the extension\n";
$sh = new SentinelSaveHandler($config, new TestLogger());
var_dump($sh->open('', 'PHPSESSID'), $sh->read($sid . 's'), $sh->write($sid . 's', 'k|s:1:"v";'));
var_dump($sh->getConnection()->getSentinelMaster()['port'] === $masterPort);
var_dump($admin->hGet('sess_' . $sid . 's', 'data'), $sh->destroy($sid . 's'), $admin->exists('sess_' . $sid . 's'), $sh->gc(100), $sh->close());

// Steady state: no sentinel queries per request.
$before = Sentinel\stats()['sentinel_queries'];
for ($i = 0; $i < 100; $i++) {
    $r = new SentinelHandler($config, new TestLogger());
    $r->read($sid . "s$i");   // one session per request: a read holds its lock until the write
    $r->close();
}
var_dump(Sentinel\stats()['sentinel_queries'] - $before);

echo "-- manual failover under a session write loop\n";
$acked = [];
$errors = 0;
$old = $masterPort;
sn_ctl('failover');
$deadline = microtime(true) + 30;
$switched_at = null;
for ($i = 0; $i < 20000 && microtime(true) < $deadline; $i++) {
    try {
        $req = new SentinelHandler($config, new TestLogger());   // one handler per request, as in FPM
        $req->read("{$sid}fo$i");
        if ($req->write("{$sid}fo$i", "v$i") === true) {
            $acked[] = $i;
        } else {
            $errors++;
        }
        if ($switched_at === null && $req->getSentinelMaster()['port'] !== $old) {
            $switched_at = $i;
        }
        $req->close();
    } catch (Exception $e) {
        $errors++;
    }
    if ($switched_at !== null && $i > $switched_at + 50) {
        break;
    }
    usleep(2000);
}
$new = (int)sn_ctl('wait-switch', (string)$old, '30000');
var_dump($switched_at !== null);
sn_ctl('wait-synced', '30000');

$r = new Redis();
$r->connect('127.0.0.1', $new);
$r->select(2);
$lost = 0;
foreach ($acked as $i) {
    $lost += $r->hGet("sess_{$sid}fo$i", 'data') !== "v$i";
}
echo "acknowledged session writes lost: $lost\n";
file_put_contents(getenv('SENTINEL_TEST_DIR') . '/bindings-session-failover.txt',
    sprintf("acked=%d errors=%d lost=%d\n", count($acked), $errors, $lost));
?>
--CLEAN--
<?php
require __DIR__ . '/bootstrap.inc';
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
-- READONLY on write
connected to replica, resolves=1
bool(true)
now on master, resolves=2, reports=replica switch
logged: CredisException: READONLY You can't writ
string(14) "a|s:5:"hello";"
string(14) "a|s:5:"hello";"
bool(true)
int(2)
-- connection error on read
connected to other, resolves=1
string(12) "a|s:3:"bye";"
now on master, resolves=2, reports=other switch, new connection=true
-- a non-retryable error propagates
read threw: WRONGTYPE
resolves=1, reports=master keep
bool(false)
resolves=1, reports=master keep, logged: CredisException: WRONGTYP
second READONLY propagated: READONLY
resolves=2, reports=replica switch
-- SentinelSaveHandler through the extension
bool(true)
string(0) ""
bool(true)
bool(true)
string(10) "k|s:1:"v";"
bool(true)
int(0)
bool(true)
bool(true)
int(0)
-- manual failover under a session write loop
bool(true)
acknowledged session writes lost: 0
