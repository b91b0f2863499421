<?php
/*
 * Per-request cost through the REAL upstream stack (Magento 2's
 * Magento\Framework\Cache\Backend\Redis on Cm_Cache_Backend_Redis, Credis,
 * Zend_Cache from zf1; checked out in $SN_UPSTREAM_DIR as
 * tests/php/upstream/run.sh documents), as a Magento request runs it: build
 * the cache backend from env.php's backend_options, load one key, drop the
 * backend (its connection closes). Interleaved in rounds:
 *
 *   direct    Magento's Redis backend, server/port = the master's known address (the floor)
 *   sentinel  LibSentinel\Magento\Cache\SentinelBackend (extends Magento's class)
 *             with Cm's sentinel backend_options: the master from the extension
 *   cm        Magento's Redis backend in Cm_Cache's own sentinel mode
 *             (Credis_Sentinel on every request; what users run today)
 *
 * Prints JSON: median per-request times of the per-round means, the ratios,
 * and where the sentinel path's time goes (the bindings' own steps timed
 * alone). Run under sentinel-topology (bench_request.sh does).
 *
 * usage: php -d extension=sentinel.so bench_upstream.php UPSTREAM_DIR [ROUNDS] [PER_ROUND]
 */
declare(strict_types=1);

$up = $argv[1] ?? '';
$rounds = (int)($argv[2] ?? 15);
$perRound = (int)($argv[3] ?? 400);
$name = getenv('SENTINEL_TEST_MASTER_NAME') ?: 'mymaster';
$sentinels = getenv('SENTINEL_TEST_SENTINELS');
$ctl = getenv('SENTINEL_TOPOLOGY_CTL');
$dir = getenv('SENTINEL_TEST_DIR');
if ($up === '' || !$sentinels || !$ctl || !function_exists('Sentinel\resolve')) {
    fwrite(STDERR, "usage: bench_upstream.php UPSTREAM_DIR [ROUNDS] [PER_ROUND], under sentinel-topology with the sentinel extension\n");
    exit(2);
}
putenv('SN_UPSTREAM_DIR=' . $up);
require __DIR__ . '/../../tests/php/upstream/bootstrap.inc';
spl_autoload_register(static function (string $class): void {
    $prefix = 'LibSentinel\\Magento\\';
    if (str_starts_with($class, $prefix)) {
        $file = __DIR__ . '/../../bindings/php/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

$masterPort = (int)trim((string)shell_exec(escapeshellarg($ctl) . ' ctl --dir ' . escapeshellarg($dir) . ' master-port'));
// The env.php of bindings/php/README.md (the cache frontend), data timeouts included.
$common = ['database' => '0', 'timeout' => '2.5', 'read_timeout' => '10', 'connect_retries' => '1',
    'compress_data' => '1', 'compress_tags' => '1', 'compression_lib' => 'gzip'];
$directOptions = ['server' => '127.0.0.1', 'port' => (string)$masterPort] + $common;
$sentinelOptions = ['server' => $sentinels, 'sentinel_master' => $name, 'sentinel_master_verify' => '1'] + $common;
$value = str_repeat('x', 100);

$seed = new Magento\Framework\Cache\Backend\Redis($directOptions);
$seed->save($value, 'bench_key');
unset($seed);

$methods = [
    'direct' => static fn() => (new Magento\Framework\Cache\Backend\Redis($directOptions))->load('bench_key'),
    // The locators of MasterLocator::forCacheOptions() forgotten before each
    // request, as under PHP-FPM: PHP's statics do not outlive a request;
    // only the extension's answer does.
    'sentinel' => static function () use ($sentinelOptions) {
        LibSentinel\Magento\MasterLocator::forgetCached();
        return (new LibSentinel\Magento\Cache\SentinelBackend($sentinelOptions))->load('bench_key');
    },
    'cm' => static fn() => (new Magento\Framework\Cache\Backend\Redis($sentinelOptions))->load('bench_key'),
];

foreach ($methods as $m => $f) {
    for ($i = 0; $i < 200; $i++) {
        if ($f() !== $value) {
            fwrite(STDERR, "$m: wrong value\n");
            exit(1);
        }
    }
}

function median(array $a): float
{
    sort($a);
    $n = count($a);
    return $n % 2 ? $a[intdiv($n, 2)] : ($a[$n / 2 - 1] + $a[$n / 2]) / 2;
}

/** This process's CPU time (user + system), us. */
function cpu_us(): float
{
    $r = getrusage();
    return $r['ru_utime.tv_sec'] * 1e6 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_sec'] * 1e6 + $r['ru_stime.tv_usec'];
}

/**
 * Median over rounds of the mean per call (us); rounds interleave the
 * functions, rotating their order. With $cpu, also the medians of this
 * process's CPU time per call (us): on a loaded machine the wall clock
 * counts the time waiting for a CPU too, the CPU time does not.
 */
function interleaved(array $fns, int $rounds, int $perRound, ?array &$cpu = null): array
{
    $samples = array_fill_keys(array_keys($fns), []);
    $cpuSamples = $samples;
    $names = array_keys($fns);
    for ($round = 0; $round < $rounds; $round++) {
        $k = $round % count($names);
        foreach (array_merge(array_slice($names, $k), array_slice($names, 0, $k)) as $m) {
            $f = $fns[$m];
            $c = cpu_us();
            $t = hrtime(true);
            for ($i = 0; $i < $perRound; $i++) {
                $f();
            }
            $samples[$m][] = (hrtime(true) - $t) / $perRound / 1000;
            $cpuSamples[$m][] = (cpu_us() - $c) / $perRound;
        }
    }
    $cpu = array_map('median', $cpuSamples);
    return array_map('median', $samples);
}

$loadBefore = sys_getloadavg();
$med = interleaved($methods, $rounds, $perRound, $cpu);
$loadAfter = sys_getloadavg();

// Where the sentinel path's extra time goes: its steps alone, same run.
$locatorOptions = LibSentinel\Magento\SentinelSettings::fromCacheOptions($sentinelOptions)->resolveOptions();
$fixed = static fn(string $m, array $o): array => ['host' => '127.0.0.1', 'port' => $masterPort, 'epoch' => 0];
$steps = interleaved([
    'settings' => static fn() => LibSentinel\Magento\SentinelSettings::fromCacheOptions($sentinelOptions)->resolveOptions(),
    'resolve' => static fn() => Sentinel\resolve($name, $locatorOptions),
    // The per-request path of the backends: the extension's remembered settings, keyed by the options.
    'resolve_remembered' => static fn() => Sentinel\resolve_remembered($sentinelOptions),
    'locate' => static fn() => (new LibSentinel\Magento\MasterLocator(
        LibSentinel\Magento\SentinelSettings::fromCacheOptions($sentinelOptions)))->locate(),
    'construct_direct' => static fn() => new Magento\Framework\Cache\Backend\Redis($directOptions),
    'construct_sentinel' => static function () use ($sentinelOptions) {
        LibSentinel\Magento\MasterLocator::forgetCached();
        return new LibSentinel\Magento\Cache\SentinelBackend($sentinelOptions);
    },
    // The glue without the extension call: a locator answering a fixed address.
    'construct_sentinel_fixed' => static fn() => new LibSentinel\Magento\Cache\SentinelBackend($sentinelOptions,
        new LibSentinel\Magento\MasterLocator(LibSentinel\Magento\SentinelSettings::fromCacheOptions($sentinelOptions),
            $fixed, null, false)),
], $rounds, $perRound * 5);

$st = Sentinel\stats();
echo json_encode([
    'rounds' => $rounds,
    'per_round' => $perRound,
    'upstream' => $up,
    'median_us' => $med,
    'ratio_sentinel_direct' => $med['sentinel'] / $med['direct'],
    'ratio_cm_direct' => $med['cm'] / $med['direct'],
    'ratio_cm_sentinel' => $med['cm'] / $med['sentinel'],
    'cpu_us' => $cpu,
    'ratio_cpu_sentinel_direct' => $cpu['sentinel'] / $cpu['direct'],
    'loadavg_1min' => ['before' => $loadBefore[0], 'after' => $loadAfter[0]],
    'sentinel_steps_us' => $steps,
    'opcache' => function_exists('opcache_get_status') && (opcache_get_status(false)['opcache_enabled'] ?? false),
    'ext_sources' => ['shared_hits' => $st['shared_hits'], 'cache_hits' => $st['cache_hits'],
        'sentinel_lookups' => $st['sentinel_lookups']],
], JSON_PRETTY_PRINT), "\n";
