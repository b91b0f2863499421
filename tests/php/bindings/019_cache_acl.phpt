--TEST--
bindings: the cache backends log in to the data nodes as a Redis 6 ACL user (username + password), and the extension's ROLE check does too
--DESCRIPTION--
Regression (issue 14, point 5): SentinelSettings::resolveOptions() dropped the username, so
resolving failed with "AUTH <password> called without any password configured for the default user".
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
require __DIR__ . '/session_config.inc';
use LibSentinel\Magento\Cache\CmSentinelBackend;
use LibSentinel\Magento\Cache\SentinelBackend;

$user = 'sn_acl_' . getmypid();
sn_on_every_node('ACL', 'SETUSER', $user, 'on', '>acl-secret', '~*', '&*', '+@all');
$options = [
    'server' => getenv('SENTINEL_TEST_SENTINELS'),
    'sentinel_master' => sn_master_name(),
    'sentinel_master_verify' => '1',
    'username' => $user,
    'password' => 'acl-secret',
    'database' => '3',
    'timeout' => '1',
    'compress_data' => '0',
];
foreach ([SentinelBackend::class, CmSentinelBackend::class] as $class) {
    // No cached answer: the extension verifies the master with ROLE, logged in as the user.
    Sentinel\invalidate(sn_master_name(), null, null,
        LibSentinel\Magento\SentinelSettings::fromCacheOptions($options)->resolveOptions());
    $b = new $class($options);
    var_dump($b->getSentinelMaster()['port'] === (int)sn_ctl('master-port'),
        $b->save('acl', 'acl' . getmypid()), $b->load('acl' . getmypid()));
    var_dump(str_contains(print_r($b, true), 'acl-secret'));
}
?>
--CLEAN--
<?php
require __DIR__ . '/bootstrap.inc';
require __DIR__ . '/session_config.inc';
sn_drop_test_acl_users();
?>
--EXPECT--
bool(true)
bool(true)
string(3) "acl"
bool(false)
bool(true)
bool(true)
string(3) "acl"
bool(false)
