--TEST--
bindings: a cache backend built by the one-call path (Sentinel\cache_options_remembered) re-applies on the new master a save the old master acknowledged after a failover began
--DESCRIPTION--
The per-operation fence of a backend whose master came from
Sentinel\cache_options_remembered() reads the failover epoch by the remembered
id (no locator). Its save here reaches the old master only after a manual
failover has begun (the extension's epoch moved) and before the old master is
demoted, so the old master acknowledges it, and loses it when the promotion
came first: the fence must notice the epoch moved, reconnect and write again
on the new master (without that check the backend stays on the old master:
the third check fails).
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
use LibSentinel\Magento\Cache\SentinelBackend;

/** The backend's client, starting a failover at the first command it is given. */
final class FailoverOnFirstCommand
{
    private bool $fired = false;

    public function __construct(private object $inner, private Closure $first)
    {
    }

    public function __call($name, $args)
    {
        if (!$this->fired) {
            $this->fired = true;
            ($this->first)();
        }
        return $this->inner->$name(...$args);
    }
}

$options = [
    'server' => getenv('SENTINEL_TEST_SENTINELS'),
    'sentinel_master' => sn_master_name(),
    'sentinel_master_verify' => '1',
    'database' => '5',
    'timeout' => '1',
    'read_timeout' => '10',
    'compress_data' => '0',
];
// The worker's first backend remembers the options; the next takes the one-call path.
new SentinelBackend($options);
$b = new SentinelBackend($options);
$m = $b->getSentinelMaster();
$old = $m['port'];
var_dump(isset($m['id']));
usleep(60000); // past MasterLocator::FRESH_SECONDS: the save is fenced before and after

$moved = false;
$client = Closure::bind(fn() => $this->_redis, $b, get_class($b))();
$hooked = new FailoverOnFirstCommand($client, function () use ($m, &$moved): void {
    sn_ctl('failover');
    // Until the extension hears the failover begin (bounded: 10 s).
    for ($i = 0; $i < 1000 && Sentinel\epoch_remembered($m['id']) === $m['epoch']; $i++) {
        usleep(10000);
    }
    $moved = Sentinel\epoch_remembered($m['id']) !== $m['epoch'];
});
Closure::bind(fn() => $this->_redis = $hooked, $b, get_class($b))();

$key = 'fast' . getmypid() . mt_rand();
$saved = $b->save('written across the failover', $key);
var_dump($moved, $saved);
// The fence reconnected after the write: the backend is on the new master.
var_dump($b->getSentinelMaster()['port'] !== $old);

sn_ctl('wait-switch', (string)$old, '30000');
sn_ctl('wait-synced', '30000');
// Once the old master is a replica of the new one, the save is where a new request reads.
$fresh = new SentinelBackend($options);
var_dump($fresh->getSentinelMaster()['port'] !== $old, $fresh->load($key));
?>
--CLEAN--
<?php
require __DIR__ . '/bootstrap.inc';
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
string(27) "written across the failover"
