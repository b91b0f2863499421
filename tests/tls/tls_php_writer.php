<?php
/*
 * The PHP side of tests/tls/test_tls_php.sh: the Magento cache backend
 * (LibSentinel\Magento\Cache\CmSentinelBackend over the Cm_Cache stand-in of
 * tests/php/stubs, or the real upstream classes with SN_UPSTREAM_DIR) and the
 * session handler, through the sentinel extension, over TLS.
 *
 *   write  SENTINELS MASTER CERTDIR LOG MODE MAX_SECONDS STOPFILE
 *          MODE reused: one backend + one session handler for the whole run
 *          (cron, consumers); per-request: new ones every iteration (FPM).
 *          One cache save and one session write per iteration; each
 *          acknowledged one is logged ("c TAG SEQ PORT" / "s TAG SEQ PORT").
 *          Bounded by MAX_SECONDS, 200,000 iterations and STOPFILE.
 *   check  SENTINELS MASTER CERTDIR LOG
 *          Resolves the final master and counts the logged writes missing
 *          from it: prints "acked C/S lost C/S ports P,...".
 *   fault  SENTINELS MASTER CERTDIR KIND [ARG]
 *          One resolution through the cache backend with a TLS fault:
 *          prints the outcome ("Sentinel\Exception TLS: message" or
 *          "ok PORT") and the time it took, in ms (a figure).
 */

declare(strict_types=1);

require __DIR__ . '/../php/bindings/bootstrap.inc';
require __DIR__ . '/../php/bindings/session_config.inc';

use LibSentinel\Magento\Cache\CmSentinelBackend;
use LibSentinel\Magento\Session\SentinelHandler;

final class TlsSessionConfig extends ArrayConfig implements Cm\RedisSession\Handler\TlsOptionsConfigInterface
{
    public function getTlsOptions(): ?array { return $this->g('tls_options'); }
}

/** @return array<string, mixed> PHP ssl context options of the test certificates */
function tls_context(string $dir): array
{
    return ['cafile' => "$dir/ca.crt", 'local_cert' => "$dir/client.crt", 'local_pk' => "$dir/client.key"];
}

/** backend_options as a Magento operator writes them for a TLS-only topology. */
function cache_options(string $sentinels, string $master, string $dir, array $extra = []): array
{
    return $extra + [
        'server' => $sentinels,
        'sentinel_master' => $master,
        'sentinel_master_verify' => '1',
        'database' => '0',
        'timeout' => '1',
        'read_timeout' => '10',
        'connect_retries' => '1',
        'compress_data' => '0',
        'tls_options' => tls_context($dir),
    ];
}

function session_config(string $sentinels, string $master, string $dir): TlsSessionConfig
{
    return new TlsSessionConfig(sn_session_env([
        'sentinel_servers' => $sentinels,
        'sentinel_master' => $master,
        'database' => '0',
        'timeout' => '1',
        'tls_options' => tls_context($dir),
        // A CLI has no user agent: upstream's Handler takes it for a bot and
        // expires its first write after bot_first_lifetime (60 s in env.php),
        // which the check would count as lost.
        'bot_first_lifetime' => '3600', 'bot_lifetime' => '3600', 'first_lifetime' => '3600',
    ]));
}

function write_loop(array $a): int
{
    [$sentinels, $master, $dir, $log, $mode, $maxSeconds, $stop] = $a;
    $perRequest = $mode === 'per-request';
    $out = fopen($log, 'w');
    $tag = $perRequest ? 'p' : 'r';
    $cache = $session = null;
    $deadline = microtime(true) + (float)$maxSeconds;
    $errors = 0;
    for ($seq = 0; $seq < 200000 && microtime(true) < $deadline; $seq++) {
        if ($seq % 50 === 0 && file_exists($stop)) {
            break;
        }
        try {
            if ($perRequest || $cache === null) {
                $cache = new CmSentinelBackend(cache_options($sentinels, $master, $dir));
                $session = new SentinelHandler(session_config($sentinels, $master, $dir), new TestLogger());
            }
            if ($cache->save("v$seq", "$tag$seq")) {
                fwrite($out, "c $tag $seq " . $cache->getSentinelMaster()['port'] . "\n");
            } else {
                $errors++;
            }
            $sid = "$tag$seq";
            $session->read($sid);
            if ($session->write($sid, "n|i:$seq;")) {
                fwrite($out, "s $tag $seq " . $session->getSentinelMaster()['port'] . "\n");
            } else {
                $errors++;
            }
            $session->close();
        } catch (Throwable $e) {
            // No master for now (a failover under way): nothing acknowledged.
            // A reused object stays: it must recover by itself.
            $errors++;
            usleep(5000);
        }
        if ($seq % 20 === 0) {
            fflush($out);
        }
        usleep(1000);
    }
    fwrite($out, "end $seq $errors\n");
    fclose($out);
    return 0;
}

function check(array $a): int
{
    [$sentinels, $master, $dir, $log] = $a;
    $b = new CmSentinelBackend(cache_options($sentinels, $master, $dir));
    $port = $b->getSentinelMaster()['port'];
    $r = new Redis();
    $r->connect('tls://127.0.0.1', $port, 2.0, null, 0, 0.0, ['stream' => tls_context($dir)]);
    $acked = ['c' => 0, 's' => 0];
    $lost = ['c' => 0, 's' => 0];
    $ports = [];
    $missing = [];
    foreach (file($log, FILE_IGNORE_NEW_LINES) as $line) {
        $f = explode(' ', $line);
        if ($f[0] === 'end') {
            continue;
        }
        [$kind, $tag, $seq, $p] = $f;
        $ports[$p] = true;
        $acked[$kind]++;
        if ($kind === 'c') {
            $ok = $r->hGet("zc:k:$tag$seq", 'd') === "v$seq";
        } else {
            $ok = $r->hGet("sess_$tag$seq", 'data') === "n|i:$seq;"; // below the compression threshold
        }
        if (!$ok) {
            $lost[$kind]++;
            $missing[] = "$kind$tag$seq@$p";
        }
    }
    printf("acked %d/%d lost %d/%d ports %s final %d\n", $acked['c'], $acked['s'], $lost['c'], $lost['s'],
        implode(',', array_keys($ports)), $port);
    if ($missing !== []) {
        // which writes (kind, tag, sequence number @ the port that acknowledged them)
        printf("missing: %s%s\n", implode(' ', array_slice($missing, 0, 20)), count($missing) > 20 ? ' ...' : '');
    }
    return 0;
}

function fault(array $a): int
{
    [$sentinels, $master, $dir, $kind] = $a;
    $extra = match ($kind) {
        'good' => [],
        // the sentinels' name checked against another one than their certificate's
        'wrong-name' => ['sentinel' => ['tls_server_name' => 'wrong.example']],
        // a CA that signed neither the sentinels nor the nodes
        'other-ca' => ['tls_options' => ['cafile' => "$dir/otherca.crt"] + tls_context($dir)],
        // expired, foreign, old-protocol: a sentinel address that serves such a certificate / protocol
        default => [],
    };
    $t = hrtime(true);
    try {
        $b = new CmSentinelBackend(cache_options($sentinels, $master, $dir, $extra));
        $what = 'ok ' . $b->getSentinelMaster()['port'];
    } catch (Sentinel\Exception $e) {
        $name = array_search($e->getCode(), (new ReflectionClass($e))->getConstants(), true);
        $what = "Sentinel\\Exception $name: " . $e->getMessage();
    } catch (Throwable $e) {
        $what = get_class($e) . ': ' . $e->getMessage();
    }
    printf("%s\nms %d\n", $what, intdiv(hrtime(true) - $t, 1000000));
    return 0;
}

$args = array_slice($argv, 2);
exit(match ($argv[1] ?? '') {
    'write' => write_loop($args),
    'check' => check($args),
    'fault' => fault($args),
    default => 2,
});
