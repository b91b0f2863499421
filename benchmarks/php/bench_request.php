<?php
/*
 * Per-request cost of reaching the Redis master from PHP, as PHP-FPM does
 * it (a fresh connection every request), three ways, interleaved in rounds:
 *
 *   direct   connect to the master's known address, GET          (the floor)
 *   ext      Sentinel\resolve() (worker/shared cache), connect, GET
 *   perreq   new RedisSentinel(...)->getMasterAddrByName(), connect, GET
 *            (what Cm_Cache / Cm_RedisSession do on every request today)
 *
 * Reports the median per-request time of each, their ratios, and the
 * sentinel commands each causes per 10,000 requests (sentinel INFO stats
 * total_commands_processed during a run, less the same duration at rest).
 * Run under sentinel-topology (bench_request.sh does).
 *
 * usage: php -d extension=sentinel.so bench_request.php [ROUNDS] [PER_ROUND] [COUNT_REQUESTS]
 */
$rounds = (int)($argv[1] ?? 15);
$perRound = (int)($argv[2] ?? 400);
$countRequests = (int)($argv[3] ?? 20000);

$name = getenv('SENTINEL_TEST_MASTER_NAME') ?: 'mymaster';
$sentinels = getenv('SENTINEL_TEST_SENTINELS');
$ctl = getenv('SENTINEL_TOPOLOGY_CTL');
$dir = getenv('SENTINEL_TEST_DIR');
if (!$sentinels || !$ctl || !function_exists('Sentinel\resolve') || !class_exists('RedisSentinel')) {
    fwrite(STDERR, "run under sentinel-topology with the sentinel and redis extensions loaded\n");
    exit(2);
}
$sentinelList = explode(',', $sentinels);
[$sHost, $sPort] = explode(':', $sentinelList[0]);
$masterPort = (int)trim(shell_exec(escapeshellarg($ctl) . ' ctl --dir ' . escapeshellarg($dir) . ' master-port'));
$opts = ['sentinels' => $sentinels, 'shared_cache' => true, 'watch' => true];

$seed = new Redis();
$seed->connect('127.0.0.1', $masterPort);
$seed->set('bench-key', str_repeat('x', 100));
$seed->close();

$methods = [
    'direct' => static function () use ($masterPort) {
        $r = new Redis();
        $r->connect('127.0.0.1', $masterPort, 1.0);
        $v = $r->get('bench-key');
        $r->close();
        return $v;
    },
    'ext' => static function () use ($name, $opts) {
        $m = Sentinel\resolve($name, $opts);
        $r = new Redis();
        $r->connect($m['host'], $m['port'], 1.0);
        $v = $r->get('bench-key');
        $r->close();
        return $v;
    },
    'perreq' => static function () use ($name, $sHost, $sPort) {
        $s = new RedisSentinel($sHost, (int)$sPort, 1.0);
        $a = $s->getMasterAddrByName($name);
        unset($s);
        $r = new Redis();
        $r->connect($a[0], (int)$a[1], 1.0);
        $v = $r->get('bench-key');
        $r->close();
        return $v;
    },
];

// Warm up (the extension's first resolution and watcher handshakes included).
foreach ($methods as $f) {
    for ($i = 0; $i < 200; $i++) {
        if ($f() !== str_repeat('x', 100)) {
            fwrite(STDERR, "wrong value\n");
            exit(1);
        }
    }
}

// Timing: rounds interleave the methods, rotating their order.
$samples = array_fill_keys(array_keys($methods), []);
$names = array_keys($methods);
$loadBefore = sys_getloadavg();
for ($round = 0; $round < $rounds; $round++) {
    $order = array_merge(array_slice($names, $round % 3), array_slice($names, 0, $round % 3));
    foreach ($order as $m) {
        $f = $methods[$m];
        $t = hrtime(true);
        for ($i = 0; $i < $perRound; $i++) {
            $f();
        }
        $samples[$m][] = (hrtime(true) - $t) / $perRound / 1000; // us per request
    }
}
function median(array $a): float
{
    sort($a);
    $n = count($a);
    return $n % 2 ? $a[intdiv($n, 2)] : ($a[$n / 2 - 1] + $a[$n / 2]) / 2;
}
$med = array_map('median', $samples);
$loadAfter = sys_getloadavg();

// Sentinel commands per request, each method on its own.
function sentinel_commands(string $ctl, string $dir, int $n): int
{
    $sum = 0;
    for ($i = 0; $i < $n; $i++) {
        $sum += (int)trim(shell_exec(escapeshellarg($ctl) . ' ctl --dir ' . escapeshellarg($dir)
            . " sentinel-stat $i total_commands_processed"));
    }
    return $sum;
}
$nsent = count($sentinelList);
$per10k = [];
foreach ($methods as $m => $f) {
    $a = sentinel_commands($ctl, $dir, $nsent);
    $t = microtime(true);
    for ($i = 0; $i < $countRequests; $i++) {
        $f();
    }
    $elapsed = microtime(true) - $t;
    $b = sentinel_commands($ctl, $dir, $nsent);
    $c = sentinel_commands($ctl, $dir, $nsent);
    usleep((int)($elapsed * 1e6));
    $d = sentinel_commands($ctl, $dir, $nsent);
    $per10k[$m] = max(0, ($b - $a) - ($d - $c)) * 10000 / $countRequests;
}

$st = Sentinel\stats();
$r = [
    'rounds' => $rounds,
    'per_round' => $perRound,
    'median_us' => $med,
    'ratio_ext_direct' => $med['ext'] / $med['direct'],
    'ratio_perreq_ext' => $med['perreq'] / $med['ext'],
    'ratio_perreq_direct' => $med['perreq'] / $med['direct'],
    'sentinel_commands_per_10k' => $per10k,
    'loadavg_1min' => ['before' => $loadBefore[0], 'after' => $loadAfter[0]],
    'ext_sources' => ['shared_hits' => $st['shared_hits'], 'cache_hits' => $st['cache_hits'],
                      'sentinel_lookups' => $st['sentinel_lookups']],
];
echo json_encode($r, JSON_PRETTY_PRINT), "\n";
