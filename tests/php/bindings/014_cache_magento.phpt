--TEST--
bindings: SentinelBackend is Magento's Redis backend (preload_keys, false from save/remove, hidden options); CmSentinelBackend is Cm's; a swallowed READONLY is still retried on the new master
--DESCRIPTION--
Regression (issue 14, point 3): SentinelBackend extended Cm_Cache_Backend_Redis, so
preload_keys was ignored, save()/remove() threw where Magento's class answers false,
__debugInfo() showed the options (password included).
--EXTENSIONS--
sentinel
redis
--SKIPIF--
<?php require __DIR__ . '/bootstrap.inc'; sn_skip_without_topology(true); ?>
--INI--
sentinel.watch=1
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\Cache\CmSentinelBackend;
use LibSentinel\Magento\Cache\SentinelBackend;
use LibSentinel\Magento\MasterLocator;
use LibSentinel\Magento\SentinelSettings;

// Cm's sentinel backend_options.
$options = [
    'server' => getenv('SENTINEL_TEST_SENTINELS'),
    'sentinel_master' => sn_master_name(),
    'sentinel_master_verify' => '1',
    'persistent' => 'secret-persistent-id',   // an option that must not show in dumps
    'database' => '3',
    'timeout' => '1',
    'connect_retries' => '1',
    'compress_data' => '0',
];
$masterPort = (int)sn_ctl('master-port');
$admin = new Redis();
$admin->connect('127.0.0.1', $masterPort);
$admin->select(3);
$p = 't014' . getmypid() . '_';

echo "-- Magento's class, through the extension\n";
$b = new SentinelBackend($options);
var_dump($b instanceof Magento\Framework\Cache\Backend\Redis, $b->getSentinelMaster()['port'] === $masterPort);
var_dump($b->save('hello', $p . 'greeting'), $b->load($p . 'greeting'));

echo "-- preload_keys: one pipeline on the first load, then answers from memory\n";
foreach (['a', 'b', 'c', 'd'] as $k) {
    $b->save("v$k", $p . $k);
}
$pre = new SentinelBackend($options + ['preload_keys' => [$p . 'a', $p . 'b', $p . 'c', $p . 'd']]);
var_dump($pre->load($p . 'a'));
foreach (['b', 'c', 'd'] as $k) {
    $admin->hSet('zc:k:' . $p . $k, 'd', 'changed');   // behind the backend's back
}
var_dump($pre->load($p . 'b'), $pre->load($p . 'd'), (new SentinelBackend($options))->load($p . 'b'));

echo "-- Redis errors: save()/remove() answer false, as Magento's class does\n";
$admin->set('zc:k:' . $p . 'wrongtype', 'a string, not a hash');
var_dump($b->save('x', $p . 'wrongtype'), $b->remove($p . 'wrongtype'));
$cm = new CmSentinelBackend($options);
var_dump($cm instanceof Magento\Framework\Cache\Backend\Redis, $cm instanceof Cm_Cache_Backend_Redis);
try {
    $cm->save('x', $p . 'wrongtype');
    echo "Cm variant: no exception?\n";
} catch (Throwable $e) {
    echo "Cm variant throws, as Cm_Cache_Backend_Redis does\n";
}
var_dump($cm->save('cm', $p . 'cm'), $cm->load($p . 'cm'));

echo "-- options and passwords stay out of dumps\n";
var_dump(str_contains(print_r($b, true), 'secret-persistent-id'), str_contains(print_r($cm, true), 'secret-persistent-id'));

echo "-- Magento's save() swallows READONLY: detected, retried once on the new master\n";
$replicaPort = 0;
foreach (explode(',', getenv('SENTINEL_TEST_NODE_PORTS')) as $port) {
    if ((int)$port !== $masterPort) { $replicaPort = (int)$port; break; }
}
$answers = [['host' => '127.0.0.1', 'port' => $replicaPort], ['host' => '127.0.0.1', 'port' => $masterPort]];
$reports = [];
$locator = new MasterLocator(
    SentinelSettings::fromCacheOptions($options),
    function (string $m, array $o) use (&$answers) { return $answers[0]; },
    function (string $h, int $port, string $e, string $m, array $o) use (&$answers, &$reports): bool {
        $switch = str_contains($e, 'READONLY');
        $reports[] = ($port === $GLOBALS['masterPort'] ? 'master' : 'replica') . ($switch ? ' switch' : ' keep');
        if ($switch && count($answers) > 1) {
            array_shift($answers);
        }
        return $switch;
    },
    fn(string $m, array $o): int => 0,
);
$stale = new SentinelBackend($options, $locator);
echo "connected to ", $stale->getSentinelMaster()['port'] === $replicaPort ? 'replica' : 'master', "\n";
var_dump($stale->save('after', $p . 'swallowed'));
echo "now on ", $stale->getSentinelMaster()['port'] === $masterPort ? 'master' : 'replica',
    ", reports=", implode(',', $reports), "\n";
var_dump($admin->hGet('zc:k:' . $p . 'swallowed', 'd'));
// A false that is not an error (remove of a missing key) is not retried.
$reports = [];
var_dump($stale->remove($p . 'missing'), $reports);
?>
--EXPECT--
-- Magento's class, through the extension
bool(true)
bool(true)
bool(true)
string(5) "hello"
-- preload_keys: one pipeline on the first load, then answers from memory
string(2) "va"
string(2) "vb"
string(2) "vd"
string(7) "changed"
-- Redis errors: save()/remove() answer false, as Magento's class does
bool(false)
bool(false)
bool(false)
bool(true)
Cm variant throws, as Cm_Cache_Backend_Redis does
bool(true)
string(2) "cm"
-- options and passwords stay out of dumps
bool(false)
bool(false)
-- Magento's save() swallows READONLY: detected, retried once on the new master
connected to replica
bool(true)
now on master, reports=replica switch
string(5) "after"
bool(false)
array(0) {
}
