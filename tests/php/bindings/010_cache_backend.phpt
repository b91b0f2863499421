--TEST--
bindings: SentinelBackend resolves through the extension, survives a manual failover, loses no acknowledged write
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

// The backend_options a Magento user writes for sentinel, unchanged.
$options = [
    'server' => getenv('SENTINEL_TEST_SENTINELS'),
    'sentinel_master' => sn_master_name(),
    'sentinel_master_verify' => '1',
    'database' => '0',
    'timeout' => '1',
    'connect_retries' => '1',
];

// One backend per "request", as in PHP-FPM.
$b = new SentinelBackend($options);
var_dump($b->getSentinelMaster()['port'] === (int)sn_ctl('master-port'));
var_dump($b->save('hello', 'greeting'), $b->load('greeting'));

// Steady state: no sentinel queries per request.
$before = Sentinel\stats()['sentinel_queries'];
for ($i = 0; $i < 200; $i++) {
    (new SentinelBackend($options))->load('greeting');
}
var_dump(Sentinel\stats()['sentinel_queries'] - $before);

// Manual failover under a write loop: every acknowledged write must be on
// the final master.
$acked = [];
$errors = 0;
$old = $b->getSentinelMaster()['port'];
sn_ctl('failover');
$deadline = microtime(true) + 30;
$switched_at = null;
for ($i = 0; $i < 20000 && microtime(true) < $deadline; $i++) {
    try {
        $req = new SentinelBackend($options);
        if ($req->save("v$i", "k$i")) {
            $acked[] = $i;
        }
        if ($switched_at === null && $req->getSentinelMaster()['port'] !== $old) {
            $switched_at = $i;
        }
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
$lost = 0;
foreach ($acked as $i) {
    $lost += $r->hGet("zc:k:k$i", 'd') !== "v$i";
}
echo "acknowledged writes lost: $lost\n";
file_put_contents(getenv('SENTINEL_TEST_DIR') . '/bindings-failover.txt',
    sprintf("acked=%d errors=%d lost=%d\n", count($acked), $errors, $lost));
?>
--CLEAN--
<?php
require __DIR__ . '/bootstrap.inc';
sn_ctl('wait-synced', '30000');
?>
--EXPECT--
bool(true)
bool(true)
string(5) "hello"
int(0)
bool(true)
acknowledged writes lost: 0
