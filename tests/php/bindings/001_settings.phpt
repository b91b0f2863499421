--TEST--
bindings: backend_options and session keys are parsed as Magento users write them
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\SentinelSettings;

$s = SentinelSettings::fromCacheOptions([
    'server' => 'tcp://10.0.0.1:26379, 10.0.0.2:26380,sentinel-3 ,[::1]:26381',
    'sentinel_master' => 'mymaster',
    'sentinel_master_verify' => '0',
    'password' => 'pw',
    'database' => '2',
    'persistent' => 'cache',
    'timeout' => '0.5',
    'read_timeout' => '10',
    'connect_retries' => '2',
    'sentinel' => ['password' => 'spw'],
]);
var_dump($s->sentinels, $s->master, $s->verifyMaster, $s->password, $s->database, $s->persistent,
    $s->timeout, $s->readTimeout, $s->connectRetries);
print_r($s->resolveOptions());

var_dump(SentinelSettings::cacheOptionsUseSentinel(['server' => '127.0.0.1', 'port' => 6379]));
var_dump(SentinelSettings::cacheOptionsUseSentinel(['server' => '127.0.0.1:26379', 'sentinel_master' => 'm']));

$t = SentinelSettings::fromSessionValues('127.0.0.1:1,127.0.0.1:2', 'sess', '1', '3', '', 0, 2.5);
var_dump($t->sentinels, $t->verifyMaster, $t->password, $t->connectRetries);

foreach (['', 'host:port:x', 'a b:1:2'] as $bad) {
    try {
        SentinelSettings::fromCacheOptions(['server' => $bad, 'sentinel_master' => 'm']);
        echo "accepted '$bad'\n";
    } catch (InvalidArgumentException $e) {
        echo $e->getMessage(), "\n";
    }
}

// Redis 6 ACL users: Cm_Cache's 'username' (data nodes) and 'sentinel' => ['username'];
// the ROLE check of the extension must authenticate as the same user.
$acl = SentinelSettings::fromCacheOptions(['server' => '127.0.0.1', 'sentinel_master' => 'm',
    'password' => 'pw', 'username' => 'magento', 'sentinel' => ['password' => 'spw', 'username' => 'watcher']]);
$o = $acl->resolveOptions();
var_dump($o['data_user'] ?? null, $o['data_password'] ?? null, $o['sentinel_user'] ?? null, $o['sentinel_password'] ?? null);
$sess = SentinelSettings::fromSessionValues('127.0.0.1', 'm', '1', '0', 'pw', 0, null, 'magento', 'spw');
var_dump($sess->resolveOptions()['data_user'] ?? null, $sess->resolveOptions()['sentinel_password'] ?? null);
// Passwords never show in dumps.
var_dump(str_contains(print_r($acl, true), 'pw'), str_contains(var_export($acl->__debugInfo(), true), 'spw'));
?>
--EXPECT--
array(4) {
  [0]=>
  string(14) "10.0.0.1:26379"
  [1]=>
  string(14) "10.0.0.2:26380"
  [2]=>
  string(16) "sentinel-3:26379"
  [3]=>
  string(11) "[::1]:26381"
}
string(8) "mymaster"
bool(false)
string(2) "pw"
int(2)
string(5) "cache"
float(0.5)
float(10)
int(2)
Array
(
    [sentinels] => Array
        (
            [0] => 10.0.0.1:26379
            [1] => 10.0.0.2:26380
            [2] => sentinel-3:26379
            [3] => [::1]:26381
        )

    [sentinel_password] => spw
    [data_password] => pw
)
bool(false)
bool(true)
array(2) {
  [0]=>
  string(11) "127.0.0.1:1"
  [1]=>
  string(11) "127.0.0.1:2"
}
bool(true)
NULL
int(3)
no sentinels configured
bad sentinel address 'host:port:x'
bad sentinel address 'b:1:2'
string(7) "magento"
string(2) "pw"
string(7) "watcher"
string(3) "spw"
string(7) "magento"
string(3) "spw"
bool(false)
bool(false)
