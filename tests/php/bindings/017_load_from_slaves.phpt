--TEST--
bindings: load_from_slaves in sentinel mode reads from a replica found through the sentinels and checked with ROLE, falling back to the master
--DESCRIPTION--
Regression (issue 14, point 9): load_from_slaves was silently dropped in sentinel mode.
The replica list comes from SENTINEL REPLICAS through Credis_Sentinel (as Cm does); the
chosen replica must answer ROLE slave of the current master, else the master serves loads.
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
use LibSentinel\Magento\Cache\ReplicaPicker;
use LibSentinel\Magento\Cache\SentinelBackend;
use LibSentinel\Magento\SentinelSettings;

$options = [
    'server' => getenv('SENTINEL_TEST_SENTINELS'),
    'sentinel_master' => sn_master_name(),
    'database' => '5',
    'timeout' => '1',
    'compress_data' => '0',
    'load_from_slaves' => '1',
];
$masterPort = (int)sn_ctl('master-port');
$replicaPorts = array_values(array_filter(array_map('intval', explode(',', getenv('SENTINEL_TEST_NODE_PORTS'))),
    fn($p) => $p !== $masterPort));
sort($replicaPorts);
sn_ctl('wait-synced', '30000');
$hgets = function (int $port): int {   // HGET calls a node has served
    $r = new Redis();
    $r->connect('127.0.0.1', $port);
    return (int)substr(explode(',', $r->info('commandstats')['cmdstat_hget'] ?? 'calls=0')[0], 6);
};

echo "-- the sentinels' replicas, filtered as Cm does\n";
$listed = ReplicaPicker::replicasFromSentinels(SentinelSettings::fromCacheOptions($options));
$ports = array_map(fn($r) => $r['port'], $listed);
sort($ports);
var_dump($ports === $replicaPorts);

echo "-- loads go to a replica, writes to the master\n";
$b = new SentinelBackend($options);
$replica = $b->getSentinelReplica();
var_dump($replica !== null && in_array($replica['port'], $replicaPorts, true));
var_dump($b->save('from master', 'lfs' . getmypid()));
sn_ctl('wait-synced', '30000');
$before = $hgets($replica['port']);
var_dump($b->load('lfs' . getmypid()));
echo "replica served the load: ", var_export($hgets($replica['port']) > $before, true), "\n";

echo "-- a candidate that is not a replica of the current master is not used\n";
ReplicaPicker::forgetAll();   // this worker's remembered choice
$picker = new ReplicaPicker(SentinelSettings::fromCacheOptions($options), false, 10.0,
    fn(SentinelSettings $s) => [['host' => '127.0.0.1', 'port' => $masterPort]],   // a sentinel naming the master as replica
);
$b2 = new SentinelBackend(['server' => $options['server'], 'sentinel_master' => sn_master_name(), 'database' => '5',
    'load_from_slaves' => '1', 'compress_data' => '0'], null, $picker);
var_dump($b2->getSentinelReplica(), $b2->load('lfs' . getmypid()));

echo "-- a replica that fails is dropped: the master answers\n";
ReplicaPicker::forgetAll();
$picker3 = new ReplicaPicker(SentinelSettings::fromCacheOptions($options), false, 10.0,
    fn(SentinelSettings $s) => [['host' => '127.0.0.1', 'port' => $replicaPorts[1]]]);
$b3 = new SentinelBackend($options, null, $picker3);
var_dump($b3->getSentinelReplica()['port'] === $replicaPorts[1]);
$idx = sn_node_index($replicaPorts[1]);
sn_ctl('kill-node', (string)$idx);
var_dump($b3->load('lfs' . getmypid()), $b3->getSentinelReplica());
sn_ctl('restart-node', (string)$idx);
?>
--CLEAN--
<?php
require __DIR__ . '/bootstrap.inc';
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
-- the sentinels' replicas, filtered as Cm does
bool(true)
-- loads go to a replica, writes to the master
bool(true)
bool(true)
string(11) "from master"
replica served the load: true
-- a candidate that is not a replica of the current master is not used
NULL
string(11) "from master"
-- a replica that fails is dropped: the master answers
bool(true)
string(11) "from master"
NULL
