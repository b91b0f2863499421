<?php
// The request the FPM load test sends: resolve the master (no sentinel round
// trip in steady state), open a fresh connection as each FPM request does,
// GET a key.
$m = Sentinel\resolve();
$r = new Redis();
$r->connect($m['host'], $m['port'], 1.0);
$v = $r->get('fpm-load-key');
$r->close();
header('Content-Type: text/plain');
echo json_encode(['pid' => getmypid(), 'port' => $m['port'], 'source' => $m['source'], 'value' => $v]), "\n";
