--TEST--
bindings over TLS: cache save/load and session write/read reach a TLS-only master through TLS-only sentinels; the address keeps tls://, the TLS options pass through
--DESCRIPTION--
Regression (issue 12, PHP): SentinelSettings refused "tls://" sentinels ("bad sentinel
address"), the address handed to Credis was the bare host (plaintext to a TLS-only master)
and Cm_Cache's Credis clients never got TLS context options. The topology
(php-ext/tests/tls_topology.bash): one master (port 0, tls-port, client certificates
required) and one sentinel (port 0, tls-port), certificates made at test time.
--EXTENSIONS--
sentinel
redis
--SKIPIF--
<?php
require __DIR__ . '/bootstrap.inc';
ob_start();
(new ReflectionExtension('sentinel'))->info();
if (str_contains(ob_get_clean(), 'TLS => not built')) die('skip extension built without TLS');
foreach (['bash', 'openssl', 'redis-server', 'redis-sentinel', 'redis-cli', 'python3', 'timeout'] as $bin) {
    if (trim((string)shell_exec('command -v ' . $bin)) === '') die("skip $bin not installed");
}
$ldd = (string)shell_exec('ldd "$(command -v redis-server)" 2>/dev/null');
if ($ldd !== '' && !str_contains($ldd, 'libssl')) die('skip redis-server built without TLS');
if (version_compare((string)phpversion('redis'), '5.3.0', '<')) die('skip php-redis without TLS (< 5.3)');
?>
--INI--
sentinel.shared_cache=0
sentinel.watch=off
sentinel.connect_timeout_ms=1000
sentinel.command_timeout_ms=1000
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
require __DIR__ . '/session_config.inc';
use LibSentinel\Magento\Cache\CmSentinelBackend;
use LibSentinel\Magento\Cache\SentinelBackend;
use LibSentinel\Magento\SentinelSettings;
use LibSentinel\Magento\Session\SentinelHandler;

$holder = proc_open(['bash', __DIR__ . '/../../../php-ext/tests/tls_topology.bash'],
                    [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'a']], $pipes);
$line = trim((string)fgets($pipes[1]));
if (!preg_match('/^READY (\S+) (\d+) (\d+)$/', $line, $m)) {
    echo "topology: $line\n";
    exit(1);
}
[, $dir, $pm, $ps] = $m;
$pm = (int)$pm;
$tls = ['cafile' => "$dir/ca.crt", 'local_cert' => "$dir/client.crt", 'local_pk' => "$dir/client.key"];

/** What the master holds, read over TLS with phpredis directly. */
function on_master(string $dir, int $pm, callable $read): mixed
{
    global $tls;
    $r = new Redis();
    $r->connect('tls://127.0.0.1', $pm, 2.0, null, 0, 0.0, ['stream' => $tls]);
    try {
        return $read($r);
    } finally {
        $r->close();
    }
}

function outcome(callable $f): string
{
    try {
        return 'ok: ' . var_export($f(), true);
    } catch (Sentinel\Exception $e) {
        $name = array_search($e->getCode(), (new ReflectionClass($e))->getConstants(), true);
        return "Sentinel\\Exception $name";
    } catch (Throwable $e) {
        return get_class($e);
    }
}

echo "-- settings: the scheme is kept, the context options reach the sentinels\n";
$s = SentinelSettings::fromCacheOptions(['server' => "tls://127.0.0.1:$ps, tls://127.0.0.2:$ps",
    'sentinel_master' => 'tlsmaster', 'tls_options' => $tls + ['peer_name' => 'localhost']]);
var_dump($s->sentinels === ["127.0.0.1:$ps", "127.0.0.2:$ps"], $s->dataHost('10.0.0.3'));
$o = $s->resolveOptions();
var_dump($o['tls'], $o['tls_cafile'] === "$dir/ca.crt", $o['tls_cert'] === "$dir/client.crt",
    $o['tls_key'] === "$dir/client.key", $o['tls_server_name']);
$s = SentinelSettings::fromCacheOptions(['server' => "127.0.0.1:$ps", 'sentinel_master' => 'tlsmaster',
    'sentinel' => ['tls' => '1', 'tls_cafile' => "$dir/otherca.crt"], 'tls_options' => $tls]);
var_dump($s->dataHost('h'), $s->resolveOptions()['tls_cafile'] === "$dir/otherca.crt");
var_dump(SentinelSettings::fromCacheOptions(['server' => "tcp://127.0.0.1:$ps", 'sentinel_master' => 'm'])->dataHost('h'));
// sentinel.tls = on alone: TLS for the sentinels (the extension's setting) and tls:// for the nodes
ini_set('sentinel.tls', 'on');
var_dump(SentinelSettings::fromCacheOptions(['server' => "127.0.0.1:$ps", 'sentinel_master' => 'm'])->dataHost('h'));
ini_restore('sentinel.tls');
foreach (["tls://127.0.0.1:$ps,127.0.0.2:$ps", "http://127.0.0.1:$ps"] as $bad) {
    echo outcome(fn() => SentinelSettings::fromCacheOptions(['server' => $bad, 'sentinel_master' => 'm'])), "\n";
}
echo outcome(fn() => SentinelSettings::fromCacheOptions(['server' => "tls://127.0.0.1:$ps",
    'sentinel_master' => 'm', 'tls_options' => 'yes'])), "\n";
echo outcome(fn() => SentinelSettings::fromCacheOptions(['server' => "tls://127.0.0.1:$ps",
    'sentinel_master' => 'm', 'sentinel' => ['tls_ca_file' => "$dir/ca.crt"]])), "\n";

echo "-- cache: Magento's and Cm's backends\n";
$options = [
    'server' => "tls://127.0.0.1:$ps",
    'sentinel_master' => 'tlsmaster',
    'sentinel_master_verify' => '1',
    'timeout' => '2',
    'compress_data' => '0',
    'tls_options' => $tls,
];
foreach ([SentinelBackend::class, CmSentinelBackend::class] as $i => $class) {
    $b = new $class($options);
    $id = "tls$i" . getmypid();
    var_dump($b->getSentinelMaster()['port'] === $pm, $b->save("over tls $i", $id), $b->load($id));
    var_dump(on_master($dir, $pm, fn($r) => $r->hGet("zc:k:$id", 'd')));
    $b->remove($id);
}

echo "-- cache: the sentinel sub-array overrides the context (another CA): the fixed TLS error\n";
echo outcome(fn() => new CmSentinelBackend(['sentinel' => ['tls_cafile' => "$dir/otherca.crt"]] + $options)), "\n";
echo "-- cache: no client certificate for the master (which requires one): an error, not plaintext\n";
$noCert = ['tls_options' => ['cafile' => "$dir/ca.crt"],
           'sentinel' => ['tls_cert' => "$dir/client.crt", 'tls_key' => "$dir/client.key"]] + $options;
echo outcome(function () use ($noCert) {
    $b = new CmSentinelBackend($noCert);
    return @$b->save('x', 'nocert' . getmypid()); // phpredis warns about the TLS alert as well
}), "\n";

echo "-- sessions: sentinel_servers tls://, getTlsOptions() passed through\n";
final class TlsArrayConfig extends ArrayConfig implements Cm\RedisSession\Handler\TlsOptionsConfigInterface
{
    public function getTlsOptions(): ?array { return $this->g('tls_options'); }
}
$config = new TlsArrayConfig(sn_session_env([
    'sentinel_servers' => "tls://127.0.0.1:$ps",
    'sentinel_master' => 'tlsmaster',
    'database' => '0',
    'tls_options' => $tls,
]));
$logger = new TestLogger();
$h = new SentinelHandler($config, $logger);
$sid = 'tlssess' . getmypid();
var_dump($h->getSentinelMaster()['port'] === $pm, $h->open('', 'PHPSESSID'));
$h->read($sid);
var_dump($h->write($sid, 'cart|s:3:"tls";'), $h->close());
$h2 = new SentinelHandler($config, $logger);
var_dump($h2->read($sid));
var_dump(on_master($dir, $pm, fn($r) => $r->exists("sess_$sid")));
$h2->destroy($sid);
var_dump(on_master($dir, $pm, fn($r) => $r->exists("sess_$sid")), $logger->exceptions);

fclose($pipes[0]);
proc_close($holder);
?>
--EXPECT--
-- settings: the scheme is kept, the context options reach the sentinels
bool(true)
string(14) "tls://10.0.0.3"
bool(true)
bool(true)
bool(true)
bool(true)
string(9) "localhost"
string(7) "tls://h"
bool(true)
string(1) "h"
string(7) "tls://h"
InvalidArgumentException
InvalidArgumentException
InvalidArgumentException
InvalidArgumentException
-- cache: Magento's and Cm's backends
bool(true)
bool(true)
string(10) "over tls 0"
string(10) "over tls 0"
bool(true)
bool(true)
string(10) "over tls 1"
string(10) "over tls 1"
-- cache: the sentinel sub-array overrides the context (another CA): the fixed TLS error
Sentinel\Exception TLS
-- cache: no client certificate for the master (which requires one): an error, not plaintext
CredisException
-- sessions: sentinel_servers tls://, getTlsOptions() passed through
bool(true)
bool(true)
bool(true)
bool(true)
string(15) "cart|s:3:"tls";"
int(1)
int(0)
array(0) {
}
