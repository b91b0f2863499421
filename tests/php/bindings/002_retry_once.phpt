--TEST--
bindings: a connection error or READONLY invalidates, re-resolves and retries once; other errors propagate
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\MasterLocator;
use LibSentinel\Magento\SentinelSettings;

$masters = [['host' => '10.0.0.1', 'port' => 6379], ['host' => '10.0.0.2', 'port' => 6379]];
$reports = [];
$locator = new MasterLocator(
    new SentinelSettings(['127.0.0.1:26379'], 'mymaster'),
    function (string $m, array $o) use (&$masters) { return $masters[0]; },
    function (string $h, int $p, string $e, string $m, array $o) use (&$reports, &$masters): bool {
        $reports[] = "$h:$p $e";
        $switch = str_starts_with($e, 'READONLY') || str_contains($e, 'Connection');
        if ($switch) {
            array_shift($masters);
        }
        return $switch;
    },
);

$current = $locator->locate();
$calls = 0;
$r = $locator->retryOnce(
    function () use (&$calls, &$current) {
        if ($calls++ === 0) {
            throw new CredisException("READONLY You can't write against a read only replica.");
        }
        return "ok on {$current['host']}";
    },
    function () use ($locator, &$current) { $current = $locator->locate(); },
    function () use (&$current) { return $current; },
);
var_dump($r, $calls, $reports);

// A second failure propagates (one retry only).
try {
    $locator->retryOnce(
        fn() => throw new CredisException('Connection to Redis failed'),
        function () {},
        fn() => ['host' => '10.0.0.2', 'port' => 6379],
    );
} catch (CredisException $e) {
    echo "propagated: ", $e->getMessage(), "\n";
}

// An error that says nothing about the master is not retried.
$calls = 0;
try {
    $locator->retryOnce(
        function () use (&$calls) { $calls++; throw new CredisException('WRONGTYPE Operation against a key'); },
        function () { echo "reconnected?\n"; },
        fn() => ['host' => '10.0.0.2', 'port' => 6379],
    );
} catch (CredisException $e) {
    echo "not retried ($calls call): ", $e->getMessage(), "\n";
}

// PHP's \Error (not an \Exception) is judged as well: a retry decides on any \Throwable.
$calls = 0;
$r = $locator->retryOnce(
    function () use (&$calls) {
        if ($calls++ === 0) {
            throw new Error('Connection lost: object used after close');
        }
        return 'retried after Error';
    },
    function () {},
    fn() => ['host' => '10.0.0.2', 'port' => 6379],
);
var_dump($r, $calls);
?>
--EXPECT--
string(14) "ok on 10.0.0.2"
int(2)
array(1) {
  [0]=>
  string(67) "10.0.0.1:6379 READONLY You can't write against a read only replica."
}
propagated: Connection to Redis failed
not retried (1 call): WRONGTYPE Operation against a key
string(19) "retried after Error"
int(2)
