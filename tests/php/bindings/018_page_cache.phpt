--TEST--
bindings: the full-page cache frontend's backend (page_cache options): large pages saved with tags, cleaned by tag, on the master the extension resolves
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

// The page_cache backend_options of the documented env.php.
$options = [
    'server' => getenv('SENTINEL_TEST_SENTINELS'),
    'sentinel_master' => sn_master_name(),
    'sentinel_master_verify' => '1',
    'database' => '6',
    'password' => '',
    'persistent' => '',
    'timeout' => '2.5',
    'read_timeout' => '10',
    'connect_retries' => '1',
    'compress_data' => '0',
];
$page = '<html>' . str_repeat('<div class="product">price 10.00</div>', 3000) . '</html>';
$p = 'fpc' . getmypid() . '_';
foreach ([SentinelBackend::class, CmSentinelBackend::class] as $class) {
    echo "-- ", substr($class, strrpos($class, '\\') + 1), "\n";
    $b = new $class($options);
    var_dump($b->getSentinelMaster()['port'] === (int)sn_ctl('master-port'));
    var_dump($b->save($page, $p . 'product_1', ['FPC', $p . 'cat_p_1']),
        $b->save('<html>other</html>', $p . 'product_2', ['FPC', $p . 'cat_p_2']));
    var_dump(strlen((string)(new $class($options))->load($p . 'product_1')) === strlen($page));
    // Product 1's price changed: Magento cleans its tag.
    var_dump($b->clean(Zend_Cache::CLEANING_MODE_MATCHING_ANY_TAG, [$p . 'cat_p_1']));
    var_dump((new $class($options))->load($p . 'product_1'), (new $class($options))->load($p . 'product_2'));
    $b->clean(Zend_Cache::CLEANING_MODE_MATCHING_ANY_TAG, [$p . 'cat_p_2']);
}
?>
--EXPECT--
-- SentinelBackend
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
string(18) "<html>other</html>"
-- CmSentinelBackend
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
string(18) "<html>other</html>"
