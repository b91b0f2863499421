--TEST--
bindings: a session request (SentinelHandler open/read/write/close) takes the cache's fast path: the settings are parsed and remembered on the worker's first request only, later requests answer from the remembered settings (resolve_remembered + epoch_remembered, no resolve()/epoch() with options); a changed password never reuses them and fails cleanly
--EXTENSIONS--
sentinel
redis
--SKIPIF--
<?php require __DIR__ . '/bootstrap.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\Session\SentinelHandler;

require __DIR__ . '/session_config.inc';
$env = sn_session_env();
$sid = 't025-' . getmypid() . '-' . mt_rand();
$masterPort = (int)sn_ctl('master-port');

/** One PHP-FPM request with a session: [calls, remembered resolutions, resolutions, read, write ok, port]. */
function session_request(array $env, string $sid, string $data): array
{
    $before = Sentinel\stats();
    $h = new SentinelHandler(new ArrayConfig($env), new TestLogger());
    $h->open('', 'PHPSESSID');
    $read = $h->read($sid);
    $ok = $h->write($sid, $data);
    $h->close();
    $after = Sentinel\stats();
    return [$after['calls'] - $before['calls'],
            $after['remembered_resolutions'] - $before['remembered_resolutions'],
            $after['resolutions'] - $before['resolutions'],
            $read, $ok, $h->getSentinelMaster()['port']];
}

// The worker's first request: resolve_remembered() false, remember(), resolve_remembered() by id,
// and the write's epoch check by the key.
[$calls, $rem, $res, $read, $ok, $port] = session_request($env, $sid, 'one');
echo "first: calls $calls, remembered $rem, resolutions $res, read '$read', write ", var_export($ok, true),
    ", on master ", var_export($port === $masterPort, true), "\n";
// Every later request: two calls (resolve_remembered, epoch_remembered), one resolution, all remembered.
$seen = [];
for ($i = 0; $i < 10; $i++) {
    [$calls, $rem, $res, $read, $ok, $port] = session_request($env, $sid, "v$i");
    $want = $i === 0 ? 'one' : 'v' . ($i - 1);
    $seen[] = "$calls/$rem/$res/" . ($read === $want ? 'read' : 'stale') . '/' . var_export($ok, true)
        . ($port === $masterPort ? '' : '/not-master');
}
echo implode(' ', array_unique($seen)), "\n";

// A changed password fails cleanly (an exception, no fatal error).
try {
    session_request(['password' => 'not-the-password'] + $env, $sid, 'x');
    echo "changed password: no error\n";
} catch (Throwable $e) {
    echo 'changed password: ', get_class($e), "\n";
}
// Changed settings are never answered from the remembered ones: another
// master name is resolved as such (reusing would have found the master).
try {
    session_request(['sentinel_master' => 'no-such-master'] + $env, $sid, 'x');
    echo "changed master: no error\n";
} catch (Sentinel\Exception $e) {
    echo 'changed master: ', $e->getCode() === Sentinel\Exception::UNKNOWN_MASTER ? 'UNKNOWN_MASTER' : $e->getMessage(), "\n";
}
// The right password still answers from what was remembered.
[$calls, $rem, $res, $read, $ok] = session_request($env, $sid, 'last');
echo "after: $calls/$rem/$res/", var_export($read === 'v9', true), '/', var_export($ok, true), "\n";
?>
--EXPECTF--
first: calls %d, remembered 1, resolutions 1, read '', write true, on master true
2/1/1/read/true
changed password: %s
changed master: UNKNOWN_MASTER
after: 2/1/1/true/true
