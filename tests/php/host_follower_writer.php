<?php
/*
 * Driver of host_follower_failover.sh: a write loop through the extension
 * in host mode (sentinel-proxy --watch beats in the shared cache; this
 * process opens no sentinel connection). Each tick resolves, reconnects
 * when the master or its epoch changed, checks the epoch again right before
 * the write (the fence) and SETs a unique key. Runs until STOP_FILE exists
 * or MAX_S seconds passed; prints one JSON line: the acknowledged keys, the
 * longest gap between two acknowledgements (ms), errors and the modes seen.
 *
 * usage: php host_follower_writer.php PREFIX STOP_FILE MAX_S
 */
[$_, $prefix, $stop, $max_s] = $argv + [null, 'hf', '/nonexistent', 30];
$acked = [];
$errors = 0;
$modes = [];
$r = null;
$cur = null;
$epoch = null;
$last_ack = null;
$gap = 0.0;
$deadline = microtime(true) + (float)$max_s;
for ($i = 0; $i < 1000000 && microtime(true) < $deadline && !is_file($stop); $i++) {
    $m = null;
    try {
        $m = Sentinel\resolve();
        $modes[Sentinel\stats()['follow_mode']] = true;
        if ($r === null || $m['port'] !== $cur || $m['epoch'] !== $epoch) {
            $r = new Redis();
            $r->connect($m['host'], $m['port'], 0.5);
            $r->setOption(Redis::OPT_READ_TIMEOUT, 0.5);
            $cur = $m['port'];
            $epoch = $m['epoch'];
        }
        if (Sentinel\epoch() !== $epoch) {
            continue; // a failover started since resolve(): resolve again
        }
        if ($r->set("$prefix:$i", '1')) {
            $now = microtime(true);
            if ($last_ack !== null) {
                $gap = max($gap, ($now - $last_ack) * 1000);
            }
            $last_ack = $now;
            $acked[] = $i;
        }
    } catch (Throwable $e) {
        $errors++;
        $r = null;
        if ($m !== null) {
            Sentinel\report_error($m['host'], $m['port'], $e->getMessage());
        }
    }
    usleep(1000);
}
echo json_encode(['acked' => $acked, 'gap_ms' => (int)round($gap), 'errors' => $errors,
    'modes' => array_keys($modes)]), "\n";
