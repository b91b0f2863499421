--TEST--
TLS: resolve over a TLS-only topology (sentinel.tls*), wrong CA, plaintext to TLS, refused values
--EXTENSIONS--
sentinel
--SKIPIF--
<?php
// Built without TLS (sentinel.tls exists, "TLS => not built"): skip. An
// extension without the sentinel.tls setting at all is not skipped: it fails.
if (ini_get('sentinel.tls') !== false) {
    ob_start();
    (new ReflectionExtension('sentinel'))->info();
    if (str_contains(ob_get_clean(), 'TLS => not built')) die('skip extension built without TLS');
}
foreach (['bash', 'openssl', 'redis-server', 'redis-sentinel', 'redis-cli', 'python3', 'timeout'] as $bin) {
    if (trim((string)shell_exec('command -v ' . $bin)) === '') die("skip $bin not installed");
}
$ldd = (string)shell_exec('ldd "$(command -v redis-server)" 2>/dev/null');
if ($ldd !== '' && !str_contains($ldd, 'libssl')) die('skip redis-server built without TLS');
?>
--INI--
sentinel.shared_cache=0
sentinel.watch=off
sentinel.timeout_ms=3000
sentinel.connect_timeout_ms=1000
sentinel.command_timeout_ms=1000
--FILE--
<?php
// The topology lives as long as the holder's stdin: it is torn down when
// this script ends, however it ends.
$holder = proc_open(['bash', __DIR__ . '/tls_topology.bash'],
                    [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'a']], $pipes);
$line = trim((string)fgets($pipes[1]));
if (!preg_match('/^READY (\S+) (\d+) (\d+)$/', $line, $m)) {
    echo "topology: $line\n";
    exit(1);
}
[, $dir, $pm, $ps] = $m;
ini_set('sentinel.sentinels', "127.0.0.1:$ps");
ini_set('sentinel.master_name', 'tlsmaster');

function attempt(string $what, ?array $options = null): void
{
    try {
        $r = Sentinel\resolve(null, $options);
        echo "$what: {$r['host']}:{$r['port']} from {$r['source']}\n";
    } catch (Sentinel\Exception $e) {
        $name = array_search($e->getCode(), (new ReflectionClass($e))->getConstants(), true);
        echo "$what: Sentinel\\Exception $name: {$e->getMessage()}\n";
    }
}

echo "-- plaintext to the TLS-only sentinel: a clear error, no hang\n";
attempt('plaintext');

echo "-- mutual TLS from INI\n";
var_dump(ini_set('sentinel.tls', 'on'));
ini_set('sentinel.tls_cafile', "$dir/ca.crt");
ini_set('sentinel.tls_cert', "$dir/client.crt");
ini_set('sentinel.tls_key', "$dir/client.key");
$r = Sentinel\resolve();
var_dump($r['host'] === '127.0.0.1', $r['port'] === (int)$pm, $r['source']);
attempt('again');

echo "-- per-call options: another CA, SNI, verification, a missing file\n";
attempt('wrong CA', ['tls_cafile' => "$dir/otherca.crt"]);
attempt('wrong CA, tls_verify off', ['tls_cafile' => "$dir/otherca.crt", 'tls_verify' => false]);
attempt('wrong name', ['tls_server_name' => 'wrong.example']);
attempt('right name', ['tls_server_name' => 'localhost']);
attempt('missing CA file', ['tls_cafile' => "$dir/no-such.crt"]);
attempt('no client certificate', ['tls_cert' => null, 'tls_key' => null]);
attempt('tls off for this call', ['tls' => false]);

echo "-- refused values\n";
var_dump(ini_set('sentinel.tls', 'maybe'));
var_dump(ini_set('sentinel.tls_cafile', 'relative/ca.crt'));
var_dump(ini_set('sentinel.tls_server_name', "bad name"));
var_dump(ini_get('sentinel.tls'), ini_get('sentinel.tls_cafile') === "$dir/ca.crt");
try {
    Sentinel\resolve(null, ['tls_cert' => 'client.crt']);
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
}
try {
    Sentinel\resolve(null, ['tls' => 'yes']);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
attempt('still resolves');
fclose($pipes[0]);
proc_close($holder);
?>
--EXPECTF--
-- plaintext to the TLS-only sentinel: a clear error, no hang
plaintext: Sentinel\Exception TLS: %sa TLS port: it reset the plaintext command%s
-- mutual TLS from INI
string(1) "0"
bool(true)
bool(true)
string(8) "sentinel"
again: 127.0.0.1:%d from cache
-- per-call options: another CA, SNI, verification, a missing file
wrong CA: Sentinel\Exception TLS: TLS: %scertificate verify failed%s
wrong CA, tls_verify off: 127.0.0.1:%d from sentinel
wrong name: Sentinel\Exception TLS: TLS: %shostname mismatch
right name: 127.0.0.1:%d from sentinel
missing CA file: Sentinel\Exception TLS: TLS: %scannot load CA%s
no client certificate: Sentinel\Exception TLS: TLS: %scertificate required
tls off for this call: Sentinel\Exception TLS: %sa TLS port: it reset the plaintext command%s
-- refused values

Warning: ini_set(): Invalid value 'maybe' for sentinel.tls: expected on or off (1/0, yes/no, true/false); keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value 'relative/ca.crt' for sentinel.tls_cafile: expected an absolute path without NUL or line breaks; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value 'bad name' for sentinel.tls_server_name: expected a host name: at most 255 printable characters without spaces; keeping the previous value in %s on line %d
bool(false)
string(2) "on"
bool(true)
Sentinel\resolve(): Argument #2 ($options) option "tls_cert" must be an absolute path without line breaks
Sentinel\resolve(): Argument #2 ($options) option "tls" must be of type bool, string given
still resolves: 127.0.0.1:%d from cache
