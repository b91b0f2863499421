<?php
/*
 * The PHP paths of the failover benchmark: the same bounded write loop as
 * fo-writer (one SET of a unique key per tick, same ack log format, same
 * CLOCK_MONOTONIC clock through hrtime()), where every tick is one "request":
 *
 *   --mode phpredis   today's Cm_Cache_Backend_Redis / Cm_RedisSession pattern
 *                     with phpredis: per request, for each sentinel in order,
 *                     new RedisSentinel -> getMasterAddrByName, connect the
 *                     master, ROLE check (sentinel_master_verify, one retry
 *                     after 100 ms as Cm_Cache does), then the SET; a fresh
 *                     connection per request.
 *   --mode ext        the sentinel extension through the Magento bindings
 *                     (LibSentinel\Magento\MasterLocator with Cm_Cache-style
 *                     backend_options): locate() per request (served from the
 *                     worker's memory / the shared cache), a fresh connection,
 *                     and the SET through the bindings' fenced(), as the
 *                     cache backends run it: reconnect if the failover epoch
 *                     moved; on a connection error or READONLY
 *                     report_error() forgets the master, resolve again, retry
 *                     once; re-apply the SET on the new master when a
 *                     failover began while it was in flight.
 *
 * Options: --mode M --sentinels H:P,... --master NAME --log FILE --prefix P
 *   --path NAME --interval-us N --max-count N --max-seconds N --stop-file F
 *   --connect-timeout-ms N (250) --command-timeout-ms N (500) --bindings DIR
 */

declare(strict_types=1);

final class AckLog
{
    /** @var resource */
    private $f;
    private int $lastFlush = 0;
    public int $acks = 0;
    public int $errors = 0;

    public function __construct(string $path)
    {
        $f = fopen($path, 'w');
        if ($f === false) {
            throw new RuntimeException("cannot write $path");
        }
        $this->f = $f;
    }

    public static function now(): int
    {
        return intdiv(hrtime(true), 1000);
    }

    public function line(string $s): void
    {
        fwrite($this->f, $s . "\n");
    }

    public function ack(int $port, int $seq): void
    {
        $this->acks++;
        $this->line(sprintf('A %d %d %d', self::now(), $port, $seq));
    }

    public function error(int $port, int $seq, string $msg): void
    {
        $this->errors++;
        $msg = substr(preg_replace('/[\r\n]+/', ' ', $msg), 0, 250);
        $this->line(sprintf('E %d %d %d %s', self::now(), $port, $seq, $msg));
    }

    public function tick(): void
    {
        $now = self::now();
        if ($now - $this->lastFlush >= 100000) {
            fflush($this->f);
            $this->lastFlush = $now;
        }
    }

    public function close(): void
    {
        fclose($this->f);
    }
}

/** One request's failure: whether a SET went out, and from which node. */
final class WriteFailed extends RuntimeException
{
    public function __construct(string $msg, public readonly bool $sent, public readonly int $port)
    {
        parent::__construct($msg);
    }
}

function parse_args(array $argv): array
{
    $o = [
        'mode' => null, 'sentinels' => null, 'master' => null, 'log' => null, 'prefix' => 'fo',
        'path' => 'php', 'interval-us' => 1000, 'max-count' => 1000000, 'max-seconds' => 120,
        'stop-file' => null, 'connect-timeout-ms' => 250, 'command-timeout-ms' => 500,
        'bindings' => __DIR__ . '/../../bindings/php/src',
    ];
    for ($i = 1; $i < count($argv); $i++) {
        $k = $argv[$i];
        if (!str_starts_with($k, '--') || !array_key_exists(substr($k, 2), $o) || $i + 1 >= count($argv)) {
            fwrite(STDERR, "writer.php: bad argument '$k'\n");
            exit(2);
        }
        $o[substr($k, 2)] = $argv[++$i];
    }
    foreach (['mode', 'sentinels', 'master', 'log'] as $k) {
        if ($o[$k] === null) {
            fwrite(STDERR, "writer.php: --$k is required\n");
            exit(2);
        }
    }
    foreach (['interval-us', 'max-count', 'max-seconds', 'connect-timeout-ms', 'command-timeout-ms'] as $k) {
        $o[$k] = (int)$o[$k];
    }
    return $o;
}

/** [[host, port], ...] from "h:p,h:p". */
function sentinel_list(string $list): array
{
    $out = [];
    foreach (explode(',', $list) as $hp) {
        $i = strrpos($hp, ':');
        $out[] = [substr($hp, 0, $i), (int)substr($hp, $i + 1)];
    }
    return $out;
}

/* ========================================================================
 * --mode phpredis: Cm_Cache's sentinel resolution, per request
 * ======================================================================== */

function phpredis_request(array $o, string $key): int
{
    $ct = $o['connect-timeout-ms'] / 1000;
    $rt = $o['command-timeout-ms'] / 1000;
    $last = 'no sentinel configured';
    // Cm_Cache: for ($i = 0; $i <= connect_retries (1); $i++) foreach sentinel.
    for ($round = 0; $round <= 1; $round++) {
        foreach (sentinel_list($o['sentinels']) as [$host, $port]) {
            $port_used = 0;
            try {
                $s = new RedisSentinel($host, $port, $ct, null, 0, $rt);
                $m = $s->getMasterAddrByName($o['master']);
                if (!is_array($m) || !is_string($m[0] ?? null) || !isset($m[1])) {
                    $last = "sentinel $host:$port does not know master '{$o['master']}'";
                    continue;
                }
                [$mh, $mp] = [$m[0], (int)$m[1]];
                $port_used = $mp;
                $r = new Redis();
                $r->connect($mh, $mp, $ct, null, 0, $rt);
                $role = $r->role();
                if (!is_array($role) || $role[0] !== 'master') {
                    // sentinel_master_verify: sleep 100 ms, ask again, once.
                    usleep(100000);
                    $m = $s->getMasterAddrByName($o['master']);
                    if (!is_array($m) || !is_string($m[0] ?? null) || !isset($m[1])) {
                        throw new RuntimeException('Unable to determine master redis server.');
                    }
                    $r->close();
                    [$mh, $mp] = [$m[0], (int)$m[1]];
                    $port_used = $mp;
                    $r->connect($mh, $mp, $ct, null, 0, $rt);
                    $role = $r->role();
                    if (!is_array($role) || $role[0] !== 'master') {
                        throw new RuntimeException('Unable to determine master redis server.');
                    }
                }
            } catch (Throwable $e) {
                $last = "$host:$port: " . $e->getMessage();
                continue;
            }
            // The request's own write: failures here are not retried.
            try {
                $ok = $r->set($key, '1');
                $err = $ok ? null : ($r->getLastError() ?? 'SET failed');
            } catch (RedisException $e) {
                $err = $e->getMessage();
            }
            $r->close();
            if ($err !== null) {
                throw new WriteFailed($err, true, $mp);
            }
            return $mp;
        }
    }
    throw new WriteFailed("Unable to connect to a redis server using the sentinel: $last", false, 0);
}

/* ========================================================================
 * --mode ext: the extension through the Magento bindings
 * ======================================================================== */

function ext_setup(array $o): object
{
    $dir = rtrim($o['bindings'], '/');
    require_once "$dir/SentinelSettings.php";
    require_once "$dir/MasterLocator.php";
    if (!function_exists('Sentinel\resolve')) {
        throw new RuntimeException('the sentinel extension is not loaded');
    }
    // The backend_options a Magento env.php would carry.
    $settings = LibSentinel\Magento\SentinelSettings::fromCacheOptions([
        'server' => $o['sentinels'],
        'sentinel_master' => $o['master'],
        'sentinel_master_verify' => '1',
        'timeout' => (string)($o['connect-timeout-ms'] / 1000),
        'read_timeout' => (string)($o['command-timeout-ms'] / 1000),
        'connect_retries' => '1',
    ]);
    return new LibSentinel\Magento\MasterLocator($settings);
}

function ext_request(array $o, object $locator, string $key): int
{
    $ct = $o['connect-timeout-ms'] / 1000;
    $rt = $o['command-timeout-ms'] / 1000;
    $cur = null;
    $redis = null;
    $sent = false;
    $connect = function () use (&$cur, &$redis, $locator, $ct, $rt): void {
        $redis?->close();
        $redis = null;
        $cur = $locator->locate();
        $redis = new Redis();
        $redis->connect($cur['host'], $cur['port'], $ct, null, 0, $rt);
    };
    $operation = function () use (&$cur, &$redis, &$sent, $key): int {
        $sent = true;
        if (!$redis->set($key, '1')) {
            // phpredis returns false on an error reply: make it an exception
            // as Credis does, so the bindings can classify it.
            throw new RedisException($redis->getLastError() ?? 'SET failed');
        }
        return (int)$cur['port'];
    };
    $current = function () use (&$cur): array {
        return $cur ?? ['host' => '127.0.0.1', 'port' => 1, 'epoch' => null, 'at' => 0.0];
    };
    try {
        // What the cache backends run (SentinelBackendTrait): connect to
        // locate()'s answer, then the write through fenced() -- reconnect if
        // the master is no longer current, retry once on a connection error
        // or READONLY, and re-apply the (idempotent) SET on the new master
        // when a failover began while it was in flight.
        try {
            $connect();
        } catch (RedisException $e) {
            $addr = $current();
            if (!$locator->reportError($addr['host'], $addr['port'], $e)) {
                throw $e;
            }
            $connect();
        }
        $port = $locator->fenced($operation, $connect, $current, true);
    } catch (Throwable $e) {
        $redis?->close();
        $msg = ($e instanceof Sentinel\Exception ? 'Sentinel\Exception(' . $e->getCode() . '): ' : '')
            . $e->getMessage();
        throw new WriteFailed($msg, $sent, $cur['port'] ?? 0);
    }
    $redis->close();
    return $port;
}

/* ========================================================================
 * The loop
 * ======================================================================== */

$o = parse_args($argv);
$log = new AckLog($o['log']);
$log->line("# path={$o['path']}");
$log->line("# mode={$o['mode']}");
$log->line("# prefix={$o['prefix']}");
$log->line("# interval_us={$o['interval-us']}");
$locator = null;
if ($o['mode'] === 'ext') {
    try {
        $locator = ext_setup($o);
    } catch (Throwable $e) {
        $log->error(0, -1, $e->getMessage());
        $log->close();
        fwrite(STDERR, "writer.php: {$e->getMessage()}\n");
        exit(1);
    }
} elseif ($o['mode'] !== 'phpredis') {
    fwrite(STDERR, "writer.php: unknown mode {$o['mode']}\n");
    exit(2);
}

$start = AckLog::now();
$deadline = $start + $o['max-seconds'] * 1000000;
$next = $start;
$nextStopCheck = 0;
$seq = 0;
$log->line("S $start");
while (true) {
    $now = AckLog::now();
    if ($now >= $deadline || $seq >= $o['max-count']) {
        break;
    }
    if ($o['stop-file'] !== null && $now >= $nextStopCheck) {
        $nextStopCheck = $now + 20000;
        clearstatcache(false, $o['stop-file']);
        if (file_exists($o['stop-file'])) {
            break;
        }
    }
    if ($next > $now) {
        usleep($next - $now);
        continue;
    }
    // One tick per interval; a tick that ran late is not made up for.
    $next += $o['interval-us'];
    if ($next < $now) {
        $next = $now + $o['interval-us'];
    }
    $key = "{$o['prefix']}:$seq";
    try {
        $port = $o['mode'] === 'ext' ? ext_request($o, $locator, $key) : phpredis_request($o, $key);
        $log->ack($port, $seq);
        $seq++;
    } catch (WriteFailed $e) {
        $log->error($e->port, $e->sent ? $seq : -1, $e->getMessage());
        if ($e->sent) {
            $seq++;
        }
    }
    $log->tick();
}
$log->line(sprintf('X %d %d %d %d', AckLog::now(), $seq, $log->acks, $log->errors));
if ($o['mode'] === 'ext' && function_exists('Sentinel\stats')) {
    foreach (Sentinel\stats() as $k => $v) {
        if (is_scalar($v)) {
            $log->line("# ext_$k=" . var_export($v, true));
        }
    }
}
$log->close();
