--TEST--
bindings: the sentinel timeouts are not Credis' data timeouts; frozen or refusing sentinels fail with the library's defaults
--DESCRIPTION--
Regression (issue 14, point 8): SentinelSettings mapped Credis' `timeout` (2.5 s in
the documented env.php) onto connect_timeout_ms / command_timeout_ms and a 10 s
total: with every sentinel frozen a request stalled ~7.5 s and ended in TIMEOUT;
with every sentinel refusing it went on for seconds of rounds. Now the sentinel
timeouts are the extension's (250 ms connect and reply, two rounds) unless
Cm_Cache's own sentinel names set them ('sentinel' => ['timeout', 'read_timeout']).
Asserted by what the options say and by the error (code, rounds), not by the clock.
--EXTENSIONS--
sentinel
posix
--INI--
sentinel.shared_cache=0
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
require __DIR__ . '/session_config.inc';
use LibSentinel\Magento\SentinelSettings;
use LibSentinel\Magento\Cache\CmSentinelBackend;
use LibSentinel\Magento\Session\SentinelHandler;

// The cache options of the documented env.php: data timeouts only.
$env = ['sentinel_master' => 'mymaster', 'sentinel_master_verify' => '1', 'timeout' => '2.5',
        'read_timeout' => '10', 'connect_retries' => '1', 'database' => '0'];
$o = SentinelSettings::fromCacheOptions(['server' => '127.0.0.1:1'] + $env)->resolveOptions();
var_dump(isset($o['connect_timeout_ms']), isset($o['command_timeout_ms']), isset($o['timeout_ms']));
// Cm_Cache's sentinel sub-array names them; only those are used.
$o = SentinelSettings::fromCacheOptions(['server' => '127.0.0.1:1',
    'sentinel' => ['timeout' => '0.1', 'read_timeout' => '0.2']] + $env)->resolveOptions();
var_dump($o['connect_timeout_ms'], $o['command_timeout_ms'], isset($o['timeout_ms']));
$o = SentinelSettings::fromCacheOptions(['server' => '127.0.0.1:1', 'sentinel' => ['timeout' => '0.3']] + $env)
    ->resolveOptions();
var_dump($o['connect_timeout_ms'], $o['command_timeout_ms']);
// Cm_RedisSession names no sentinel timeout: its `timeout` is the data node's.
$o = SentinelSettings::fromSessionValues('127.0.0.1:1', 'm', '1', '1', null, 0, 2.5)->resolveOptions();
var_dump(isset($o['connect_timeout_ms']), isset($o['command_timeout_ms']), isset($o['timeout_ms']));

/** One cache backend and one session handler built with $sentinels; what each throws and how many sentinel tries. */
function attempt(string $sentinels, string $master): void
{
    global $env, $failures;
    $failures = [];
    $cases = [
        'cache' => fn() => new CmSentinelBackend(['server' => $sentinels, 'sentinel_master' => $master] + $env),
        'session' => fn() => new SentinelHandler(new ArrayConfig(['sentinel_servers' => $sentinels,
            'sentinel_master' => $master, 'sentinel_verify_master' => '1', 'sentinel_connect_retries' => '1',
            'timeout' => '2.5', 'database' => '0']), new TestLogger()),
    ];
    foreach ($cases as $what => $build) {
        $before = Sentinel\stats()['sentinel_failures'];
        try {
            $build();
            echo "$what: built?\n";
        } catch (Sentinel\Exception $e) {
            $name = array_search($e->getCode(), (new ReflectionClass(Sentinel\Exception::class))->getConstants(), true);
            // The library's rule for "no sentinel answers": two rounds over the list, then give up.
            preg_match('/gave up after (\d+) rounds/', $e->getMessage(), $m);
            echo "$what: $name after ", $m[1] ?? '?', " rounds\n";
            $failures[$what] = Sentinel\stats()['sentinel_failures'] - $before;
        }
    }
}

// Every sentinel refusing: ports bound, then closed.
$ports = [];
for ($i = 0; $i < 3; $i++) {
    $s = stream_socket_server('tcp://127.0.0.1:0');
    $ports[] = (int)substr(strrchr(stream_socket_get_name($s, false), ':'), 1);
    fclose($s);
}
attempt(implode(',', array_map(fn($p) => "127.0.0.1:$p", $ports)), 'refused');
echo "sentinel failures: ", implode(', ', $failures), "\n";   // 2 rounds x 3 refused sentinels each

// Every sentinel frozen (SIGSTOP): connections are accepted by the kernel, nothing answers.
$children = [];
$frozen = [];
for ($i = 0; $i < 3; $i++) {
    $p = proc_open([PHP_BINARY, '-n', '-r', '$s = stream_socket_server("tcp://127.0.0.1:0");'
        . ' echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1), "\n"; fflush(STDOUT); sleep(60);'],
        [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
    $port = (int)fgets($pipes[1]);
    $pid = proc_get_status($p)['pid'];
    posix_kill($pid, SIGSTOP);
    $children[] = [$p, $pid, $pipes[1]];
    $frozen[] = "127.0.0.1:$port";
}
attempt(implode(',', $frozen), 'frozen');
foreach ($children as [$p, $pid, $out]) {
    posix_kill($pid, SIGKILL);
    fclose($out);
    proc_close($p);
}
?>
--EXPECT--
bool(false)
bool(false)
bool(false)
int(100)
int(200)
bool(false)
int(300)
int(300)
bool(false)
bool(false)
bool(false)
cache: NO_SENTINEL_REACHABLE after 2 rounds
session: NO_SENTINEL_REACHABLE after 2 rounds
sentinel failures: 6, 6
cache: TIMEOUT after 2 rounds
session: TIMEOUT after 2 rounds
