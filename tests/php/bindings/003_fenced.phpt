--TEST--
bindings: fenced operations reconnect when the failover epoch moved, and re-apply a write acknowledged after it moved
--DESCRIPTION--
MasterLocator::fenced() with a scripted resolve and a fake Sentinel\epoch() (the
contract: the failover epoch of the master as this process knows it). No Redis.
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\MasterLocator;
use LibSentinel\Magento\SentinelSettings;

$epoch = 7;
$answer = ['host' => '10.0.0.1', 'port' => 6379];
$resolves = 0;
$locator = new MasterLocator(
    new SentinelSettings(['127.0.0.1:26379'], 'mymaster'),
    function (string $m, array $o) use (&$answer, &$resolves, &$epoch) { $resolves++; return $answer + ['epoch' => $epoch]; },
    fn(string $h, int $p, string $e, string $m, array $o): bool => false,
    function (string $m, array $o) use (&$epoch) { return $epoch; },
    0.0,   // check before every operation, however recently located
);
var_dump($locator->hasEpoch());

$connected = $locator->locate();
$reconnects = 0;
$reconnect = function () use (&$connected, &$reconnects, $locator) { $reconnects++; $connected = $locator->locate(); };
$current = function () use (&$connected) { return $connected; };
$applied = [];   // where each attempt of the write went

echo "-- steady state: no resolve, no reconnect\n";
$resolves = 0;
for ($i = 0; $i < 3; $i++) {
    $locator->fenced(function () use (&$applied, &$connected) { $applied[] = $connected['host']; return true; },
        $reconnect, $current, true);
}
echo "resolves=$resolves reconnects=$reconnects applied=", implode(',', $applied), "\n";

echo "-- the epoch moved before the operation: reconnect first\n";
$applied = [];
$epoch++;
$answer = ['host' => '10.0.0.2', 'port' => 6379];
$locator->fenced(function () use (&$applied, &$connected) { $applied[] = $connected['host']; return true; },
    $reconnect, $current, false);
echo "reconnects=$reconnects applied=", implode(',', $applied), "\n";

echo "-- a write acknowledged after the epoch moved is re-applied on the new master\n";
$applied = [];
$r = $locator->fenced(function () use (&$applied, &$connected, &$epoch, &$answer) {
    $applied[] = $connected['host'];
    if (count($applied) === 1) {
        // The (frozen) master acknowledges after the failover began.
        $epoch++;
        $answer = ['host' => '10.0.0.3', 'port' => 6379];
    }
    return 'ok';
}, $reconnect, $current, true);
echo "result=$r reconnects=$reconnects applied=", implode(',', $applied), "\n";

echo "-- a read is not re-applied\n";
$applied = [];
$locator->fenced(function () use (&$applied, &$connected, &$epoch) {
    $applied[] = $connected['host'];
    if (count($applied) === 1) {
        $epoch++;
    }
    return 'v';
}, $reconnect, $current, false);
echo "applied=", implode(',', $applied), "\n";

echo "-- without Sentinel\\epoch(): the resolved address is compared\n";
$answer = ['host' => '10.0.0.1', 'port' => 6379];
$plain = new MasterLocator(
    new SentinelSettings(['127.0.0.1:26379'], 'mymaster'),
    function (string $m, array $o) use (&$answer) { return $answer; },
    fn(string $h, int $p, string $e, string $m, array $o): bool => false,
    false,
    0.0,
);
$m = $plain->locate();
var_dump($plain->hasEpoch(), $m['epoch'], $plain->isCurrent($m));
$answer = ['host' => '10.0.0.9', 'port' => 6379];
var_dump($plain->isCurrent($m));

echo "-- by default the extension's Sentinel\\epoch() is used when it exists\n";
if (!function_exists('Sentinel\epoch')) {
    // The contract another part of the project adds to the extension.
    eval('namespace Sentinel; function epoch(?string $master = null, ?array $options = null): int { return 42; }');
}
$default = new MasterLocator(new SentinelSettings(['127.0.0.1:26379'], 'mymaster'),
    fn(string $m, array $o) => ['host' => '10.0.0.1', 'port' => 6379],
    fn(string $h, int $p, string $e, string $m, array $o): bool => false);
var_dump($default->hasEpoch());

echo "-- a master located moments ago is not checked before the operation, a write is checked after\n";
$checks = 0;
$fresh = new MasterLocator(
    new SentinelSettings(['127.0.0.1:26379'], 'mymaster'),
    fn(string $m, array $o) => ['host' => '10.0.0.1', 'port' => 6379],
    fn(string $h, int $p, string $e, string $m, array $o): bool => false,
    function (string $m, array $o) use (&$checks) { $checks++; return 1; },
    3600.0,
);
$m = $fresh->locate();
$checks = 0;
$fresh->fenced(fn() => 'v', function () {}, fn() => $m, false);
echo "read: $checks epoch reads\n";
$fresh->fenced(fn() => true, function () {}, fn() => $m, true);
echo "write: $checks epoch reads\n";
?>
--EXPECT--
bool(true)
-- steady state: no resolve, no reconnect
resolves=0 reconnects=0 applied=10.0.0.1,10.0.0.1,10.0.0.1
-- the epoch moved before the operation: reconnect first
reconnects=1 applied=10.0.0.2
-- a write acknowledged after the epoch moved is re-applied on the new master
result=ok reconnects=2 applied=10.0.0.2,10.0.0.3
-- a read is not re-applied
applied=10.0.0.3
-- without Sentinel\epoch(): the resolved address is compared
bool(false)
NULL
bool(true)
bool(false)
-- by default the extension's Sentinel\epoch() is used when it exists
bool(true)
-- a master located moments ago is not checked before the operation, a write is checked after
read: 0 epoch reads
write: 1 epoch reads
