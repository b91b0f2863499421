--TEST--
TLS minimum version: sentinel.tls_min_version and the tls_min_version option ("1.2"/"1.3", strict) reach the library: a TLS 1.2-only sentinel is refused at 1.3
--EXTENSIONS--
sentinel
--SKIPIF--
<?php
ob_start();
(new ReflectionExtension('sentinel'))->info();
if (str_contains(ob_get_clean(), 'TLS => not built')) die('skip extension built without TLS');
foreach (['openssl', 'python3', 'timeout'] as $bin) {
    if (trim((string)shell_exec('command -v ' . $bin)) === '') die("skip $bin not installed");
}
?>
--INI--
sentinel.tls_min_version=1.1
sentinel.shared_cache=0
sentinel.watch=off
sentinel.timeout_ms=2000
sentinel.connect_timeout_ms=1000
sentinel.command_timeout_ms=1000
--FILE--
<?php
// Startup: refused, the default kept.
var_dump(ini_get('sentinel.tls_min_version'));
// Runtime: exactly "1.2" or "1.3".
foreach (['1.1', '1.0', 'TLSv1.3', '1.3 ', "1.3\0x", '', '13'] as $v) {
    var_dump(ini_set('sentinel.tls_min_version', $v));
}
var_dump(ini_set('sentinel.tls_min_version', '1.3'), ini_get('sentinel.tls_min_version'));
var_dump(ini_set('sentinel.tls_min_version', '1.2'), ini_get('sentinel.tls_min_version'));
// The per-call option, checked the same way.
foreach ([['tls_min_version' => '1.1'], ['tls_min_version' => 1.3], ['tls_min_version' => null]] as $o) {
    try {
        Sentinel\resolve('mymaster', ['sentinels' => '127.0.0.1:1'] + $o);
    } catch (ValueError|TypeError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

// A sentinel that speaks TLS 1.2 at most (Python's ssl) and knows no master.
$dir = sys_get_temp_dir() . '/sentinel-tlsver-' . getmypid();
@mkdir($dir);
exec('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 '
     . '-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 '
     . "-keyout $dir/k.pem -out $dir/c.pem 2>/dev/null", $out, $rc);
$py = <<<'PY'
import socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(sys.argv[1] + "/c.pem", sys.argv[1] + "/k.pem")
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8)
print(srv.getsockname()[1], flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), srv.close()), daemon=True).start()
def serve(c):
    try:
        with ctx.wrap_socket(c, server_side=True) as t:
            for _ in range(100):
                d = t.recv(4096)
                if not d:
                    return
                t.sendall(b"$-1\r\n" * d.count(b"get-master-addr-by-name"))
    except Exception:
        pass
for _ in range(100):
    try:
        c, _a = srv.accept()
    except OSError:
        break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY;
file_put_contents("$dir/s.py", $py);
$p = proc_open(['timeout', '60', 'python3', "$dir/s.py", $dir],
               [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'a']], $pipes);
$port = (int)trim((string)fgets($pipes[1]));

function attempt(string $what, array $o): void
{
    try {
        Sentinel\resolve('mymaster', $o);
        echo "$what: resolved?\n";
    } catch (Sentinel\Exception $e) {
        $name = array_search($e->getCode(), (new ReflectionClass($e))->getConstants(), true);
        $proto = preg_match('/protocol|version/i', $e->getMessage()) ? ' (protocol version)' : '';
        echo "$what: $name$proto\n";
    }
}
$base = ['sentinels' => "127.0.0.1:$port", 'tls' => true, 'tls_cafile' => "$dir/c.pem"];
attempt('default 1.2', $base);
attempt('option 1.3', $base + ['tls_min_version' => '1.3']);
attempt('option 1.2', $base + ['tls_min_version' => '1.2']);
ini_set('sentinel.tls_min_version', '1.3');
attempt('INI 1.3', $base);
attempt('INI 1.3, option 1.2', $base + ['tls_min_version' => '1.2']);

fclose($pipes[0]);
proc_close($p);
array_map('unlink', glob("$dir/*"));
rmdir($dir);
?>
--EXPECTF--
Warning: PHP Startup: Invalid value '1.1' for sentinel.tls_min_version: expected 1.2 or 1.3; keeping the default in %s on line %d
string(3) "1.2"

Warning: ini_set(): Invalid value '1.1' for sentinel.tls_min_version: expected 1.2 or 1.3; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '1.0' for sentinel.tls_min_version: expected 1.2 or 1.3; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value 'TLSv1.3' for sentinel.tls_min_version: expected 1.2 or 1.3; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '1.3 ' for sentinel.tls_min_version: expected 1.2 or 1.3; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '1.3' for sentinel.tls_min_version: expected 1.2 or 1.3; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '' for sentinel.tls_min_version: expected 1.2 or 1.3; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '13' for sentinel.tls_min_version: expected 1.2 or 1.3; keeping the previous value in %s on line %d
bool(false)
string(3) "1.2"
string(3) "1.3"
string(3) "1.3"
string(3) "1.2"
ValueError: Sentinel\resolve(): Argument #2 ($options) option "tls_min_version" must be "1.2" or "1.3"
TypeError: Sentinel\resolve(): Argument #2 ($options) option "tls_min_version" must be of type string, float given
TypeError: Sentinel\resolve(): Argument #2 ($options) option "tls_min_version" must be of type string, null given
default 1.2: UNKNOWN_MASTER
option 1.3: TLS (protocol version)
option 1.2: UNKNOWN_MASTER
INI 1.3: TLS (protocol version)
INI 1.3, option 1.2: UNKNOWN_MASTER
