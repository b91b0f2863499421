--TEST--
bindings: a request that builds a cache backend and loads a key makes exactly one extension call (Sentinel\cache_options_remembered), with no option parsing; a worker's first request remembers the settings
--EXTENSIONS--
sentinel
redis
--SKIPIF--
<?php require __DIR__ . '/bootstrap.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\Cache\SentinelBackend;
use LibSentinel\Magento\Cache\CmSentinelBackend;
use LibSentinel\Magento\MasterLocator;

// The env.php cache frontend of bindings/php/README.md.
$options = [
    'server' => getenv('SENTINEL_TEST_SENTINELS'),
    'sentinel_master' => sn_master_name(),
    'sentinel_master_verify' => '1',
    'database' => '0',
    'timeout' => '2.5',
    'read_timeout' => '10',
    'connect_retries' => '1',
    'compress_data' => '1',
];
$seed = new SentinelBackend($options);
var_dump($seed->save('value', 'k1'));
unset($seed);

/** One PHP-FPM request: build the backend, load one key; the statics end with it. */
function request(string $class, array $options): array
{
    MasterLocator::forgetCached();
    $before = Sentinel\stats();
    $b = new $class($options);
    $v = $b->load('k1');
    $after = Sentinel\stats();
    return [$v, $after['calls'] - $before['calls'],
            $after['remembered_resolutions'] - $before['remembered_resolutions'],
            $b->getSentinelMaster()['port'] === (int)sn_ctl('master-port')];
}

// Other options than the seed's: this worker's first request with them
// remembers them (cache_options_remembered() and resolve_remembered() false,
// remember(), resolve_remembered()).
$first = $options + ['compress_tags' => '1'];
echo json_encode(request(SentinelBackend::class, $first)), "\n";
// Every later request: one call.
$calls = [];
for ($i = 0; $i < 20; $i++) {
    [$v, $n, $r, $onMaster] = request(SentinelBackend::class, $first);
    $calls[] = "$n/$r/" . ($v === 'value' ? 'hit' : 'miss') . ($onMaster ? '' : '/not-master');
}
echo implode(' ', array_unique($calls)), "\n";
// The Cm_Cache variant takes the same path.
echo json_encode(request(CmSentinelBackend::class, $first)), "\n";

// A write through a backend of this request: the fence needs no extra call
// while the master is fresh; a save after that checks the epoch (one call).
MasterLocator::forgetCached();
$b = new SentinelBackend($first);
$c0 = Sentinel\stats()['calls'];
var_dump($b->save('v2', 'k2'));
$c1 = Sentinel\stats()['calls'];
usleep(60000);
var_dump($b->load('k2'));
echo "calls: save ", $c1 - $c0, ", later load ", Sentinel\stats()['calls'] - $c1 > 0 ? 'checked' : 'unchecked', "\n";
?>
--EXPECT--
bool(true)
["value",4,1,true]
1/1/hit
["value",1,1,true]
bool(true)
string(2) "v2"
calls: save 1, later load checked
