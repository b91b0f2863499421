<?php
/*
 * Driver of fpm_sentinel_load.sh: sends a bounded number of FastCGI requests
 * to a real php-fpm pool whose script resolves the master through the
 * extension and GETs a key, and counts what the sentinels saw (INFO stats:
 * total_connections_received, total_commands_processed; sentinel mode has no
 * commandstats) during the load, less what they see at rest over the same
 * duration. Asserts the client-caused traffic is bounded and does not grow
 * with the number of requests.
 *
 * usage: php fpm_load.php FPM_ADDRESS APP_SCRIPT WORKERS REQUESTS
 */
require __DIR__ . '/fcgi_client.php';

[$_, $address, $script, $workers, $requests] = $argv + [null, null, null, 4, 2000];
$workers = (int)$workers;
$requests = (int)$requests;
$ctl = getenv('SENTINEL_TOPOLOGY_CTL');
$dir = getenv('SENTINEL_TEST_DIR');
$nsentinels = count(explode(',', getenv('SENTINEL_TEST_SENTINELS')));

function stat_sum(string $ctl, string $dir, int $n, string $field): int
{
    $sum = 0;
    for ($i = 0; $i < $n; $i++) {
        $v = trim((string)shell_exec(escapeshellarg($ctl) . ' ctl --dir ' . escapeshellarg($dir)
            . " sentinel-stat $i $field"));
        if (!is_numeric($v)) {
            fwrite(STDERR, "sentinel-stat $i $field: '$v'\n");
            exit(1);
        }
        $sum += (int)$v;
    }
    return $sum;
}

function snapshot(string $ctl, string $dir, int $n): array
{
    return [stat_sum($ctl, $dir, $n, 'total_connections_received'),
            stat_sum($ctl, $dir, $n, 'total_commands_processed')];
}

function run_requests(string $address, string $script, int $n, array &$pids, array &$sources): int
{
    $errors = 0;
    for ($i = 0; $i < $n; $i++) {
        try {
            [$status, $body] = fcgi_get($address, $script);
            $j = json_decode(trim($body), true);
            if ($status !== 0 || !is_array($j) || $j['value'] !== 'hello') {
                $errors++;
                if ($errors <= 3) {
                    fwrite(STDERR, "bad response: status $status body " . substr($body, 0, 300) . "\n");
                }
                continue;
            }
            $pids[$j['pid']] = true;
            $sources[$j['source']] = ($sources[$j['source']] ?? 0) + 1;
        } catch (Throwable $e) {
            $errors++;
            if ($errors <= 3) {
                fwrite(STDERR, $e->getMessage() . "\n");
            }
        }
    }
    return $errors;
}

// Warm up, spread over about two seconds: every worker resolves once and its
// watcher (driven by requests, never blocking) finishes connecting and
// subscribing to every sentinel. What remains is the steady state.
$pids = [];
$sources = [];
$errors = 0;
for ($round = 0; $round < 20; $round++) {
    $errors += run_requests($address, $script, 4 * $workers, $pids, $sources);
    usleep(100000);
}
echo "warm-up: ", count($pids), " workers answered, sources ", json_encode($sources), "\n";

$result = [];
foreach ([$requests / 2, $requests] as $n) {
    $n = (int)$n;
    $pids = [];
    $sources = [];
    $s0 = snapshot($ctl, $dir, $nsentinels);
    $t0 = microtime(true);
    $errors += run_requests($address, $script, $n, $pids, $sources);
    $elapsed = microtime(true) - $t0;
    $s1 = snapshot($ctl, $dir, $nsentinels);
    // The sentinels' own traffic (pings, hellos, our INFO reads) at rest.
    $r0 = snapshot($ctl, $dir, $nsentinels);
    usleep((int)($elapsed * 1e6));
    $r1 = snapshot($ctl, $dir, $nsentinels);
    $conn = ($s1[0] - $s0[0]) - ($r1[0] - $r0[0]);
    $cmds = ($s1[1] - $s0[1]) - ($r1[1] - $r0[1]);
    printf("%5d requests in %.2f s (%d workers, sources %s): sentinel connections %+d, commands %+d"
        . " (load %d/%d, rest %d/%d)\n",
        $n, $elapsed, count($pids), json_encode($sources), $conn, $cmds,
        $s1[0] - $s0[0], $s1[1] - $s0[1], $r1[0] - $r0[0], $r1[1] - $r0[1]);
    $result[] = [$n, $conn, $cmds, $sources];
}

// Bounded: at most a handful per worker (watcher reconnects, polls), never
// anything like one per request. Per-request resolution would cost at least
// one connection and one command per request ($n).
$bound = 10 * $workers + 20;
$ok = $errors === 0;
foreach ($result as [$n, $conn, $cmds, $sources]) {
    if ($conn > $bound || $cmds > $bound) {
        echo "FAIL: $n requests caused $conn sentinel connections and $cmds commands (bound $bound)\n";
        $ok = false;
    }
    if (($sources['sentinel'] ?? 0) > $workers) {
        echo "FAIL: {$sources['sentinel']} of $n requests asked the sentinels\n";
        $ok = false;
    }
}
if ($errors) {
    echo "FAIL: $errors requests failed\n";
}
$per10k = max(0, $result[1][2]) * 10000 / $result[1][0];
printf("sentinel commands per 10,000 requests (client-caused): %.1f\n", $per10k);
echo $ok ? "fpm-load: 1 passed, 0 failed\n" : "fpm-load: 0 passed, 1 failed\n";
exit($ok ? 0 : 1);
