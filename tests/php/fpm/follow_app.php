<?php
// The request of fpm_host_follower.sh: resolve the master and say how this
// worker follows failovers (its own follower, or the host follower's
// heartbeat in the shared cache). ?hold=MS keeps the worker busy, so that
// concurrent requests reach every worker of the pool.
$m = Sentinel\resolve();
$s = Sentinel\stats();
$h = $s['masters'][0] ?? [];
if (isset($_GET['hold'])) {
    usleep(min(1000, (int)$_GET['hold']) * 1000);
}
header('Content-Type: text/plain');
echo json_encode(['pid' => getmypid(), 'port' => $m['port'], 'source' => $m['source'],
    'mode' => $s['follow_mode'], 'state' => $h['follow_state'] ?? null]), "\n";
