--TEST--
bindings: the session config decorator hands Cm\RedisSession the resolved master, not the sentinels
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/bootstrap.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\Session\SentinelConfig;

// What Magento's session/redis config returns for a sentinel setup.
$inner = new class implements Cm\RedisSession\Handler\ConfigInterface {
    public function getLogLevel() { return 1; }
    public function getHost() { return '127.0.0.1'; }
    public function getPort() { return 6379; }
    public function getDatabase() { return 2; }
    public function getPassword() { return ''; }
    public function getTimeout() { return 2.5; }
    public function getRetries() { return 0; }
    public function getPersistentIdentifier() { return ''; }
    public function getCompressionThreshold() { return 2048; }
    public function getCompressionLibrary() { return 'gzip'; }
    public function getMaxConcurrency() { return 6; }
    public function getLifetime() { return 1440; }
    public function getMaxLifetime() { return 2592000; }
    public function getMinLifetime() { return 60; }
    public function getDisableLocking() { return false; }
    public function getBotLifetime() { return 7200; }
    public function getBotFirstLifetime() { return 60; }
    public function getFirstLifetime() { return 600; }
    public function getBreakAfter() { return 5; }
    public function getFailAfter() { return 10; }
    public function getSentinelServers() { return getenv('SENTINEL_TEST_SENTINELS'); }
    public function getSentinelMaster() { return sn_master_name(); }
    public function getSentinelVerifyMaster() { return '1'; }
    public function getSentinelConnectRetries() { return '2'; }
};
$c = new SentinelConfig($inner);
var_dump($c->getPort() === (int)sn_ctl('master-port'), $c->getHost());
var_dump($c->getSentinelServers(), $c->getSentinelMaster());
var_dump($c->getDatabase(), $c->getMaxConcurrency(), $c->getSentinelConnectRetries());

// A READONLY from the session connection forgets the master.
var_dump($c->reportError(new Exception("READONLY You can't write against a read only replica.")));
var_dump($c->getPort() === (int)sn_ctl('master-port'));
?>
--EXPECT--
bool(true)
string(9) "127.0.0.1"
string(0) ""
string(0) ""
int(2)
int(6)
string(1) "2"
bool(true)
bool(true)
