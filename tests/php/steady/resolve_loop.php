<?php
// N x (Sentinel\resolve() + Sentinel\epoch()) after a warm-up, the
// follower on (sentinel.watch=on): run by syscalls.sh under strace.
$n = (int)($argv[1] ?? 0);
$name = getenv('SENTINEL_TEST_MASTER_NAME') ?: 'mymaster';
$o = ['sentinels' => getenv('SENTINEL_TEST_SENTINELS')];
for ($i = 0; $i < 50; $i++) {
    Sentinel\resolve($name, $o);
}
$r = null;
for ($i = 0; $i < $n; $i++) {
    $r = Sentinel\resolve($name, $o);
    Sentinel\epoch($name, $o);
}
$s = Sentinel\stats();
echo "calls $n follow_mode {$s['follow_mode']} watchers {$s['watchers']} source ", $r['source'] ?? '-', "\n";
