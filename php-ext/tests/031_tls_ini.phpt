--TEST--
TLS settings: validated like the others (strict booleans, absolute paths, host names), files checked when TLS is turned on, phpinfo TLS row
--EXTENSIONS--
sentinel
--INI--
sentinel.tls=maybe
sentinel.tls_cafile=ca.crt
sentinel.tls_verify=sometimes
--FILE--
<?php
// Startup: refused, defaults kept (TLS off, verification on).
var_dump(ini_get('sentinel.tls'), ini_get('sentinel.tls_cafile'), ini_get('sentinel.tls_verify'));

// Runtime.
var_dump(ini_set('sentinel.tls', "1\0junk"));
var_dump(ini_set('sentinel.tls_verify', '2'));
var_dump(ini_set('sentinel.tls_capath', "/etc/ssl/certs\n"));
var_dump(ini_set('sentinel.tls_cert', "/tmp/a\0b"));
var_dump(ini_set('sentinel.tls_key', '../client.key'));
var_dump(ini_set('sentinel.tls_server_name', 'two words'));
var_dump(ini_set('sentinel.tls_server_name', str_repeat('a', 256)));
// Accepted: files are not looked at until TLS is turned on.
var_dump(ini_set('sentinel.tls_cafile', '/nonexistent/sentinel-test/ca.crt') !== false);
var_dump(ini_set('sentinel.tls_server_name', 'redis.example') !== false);
var_dump(ini_set('sentinel.tls', 'yes') !== false, ini_get('sentinel.tls'));
var_dump(ini_set('sentinel.tls_verify', 'off') !== false);

ini_set('sentinel.shared_cache', '0');
ini_set('sentinel.watch', 'off');
// TLS on with a CA file that does not exist (or a build without TLS): a
// TLS error before anything is sent, never plaintext.
try {
    Sentinel\resolve('mymaster', ['sentinels' => '127.0.0.1:1']);
    echo "resolved?\n";
} catch (Sentinel\Exception $e) {
    var_dump($e->getCode() === Sentinel\Exception::TLS);
    var_dump((bool)preg_match('/cannot load CA|no TLS support/', $e->getMessage()));
}
// Per-call options of the same names, checked the same way.
foreach ([['tls_cafile' => 'ca.crt'], ['tls_capath' => "/a\nb"], ['tls_server_name' => 'a b'],
          ['tls_verify' => 1], ['tls_key' => 5], ['tls_bogus' => true]] as $o) {
    try {
        Sentinel\resolve('mymaster', ['sentinels' => '127.0.0.1:1'] + $o);
    } catch (ValueError|TypeError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
ob_start();
(new ReflectionExtension('sentinel'))->info();
var_dump((bool)preg_match('/^TLS => (available|not built)$/m', ob_get_clean()));
?>
--EXPECTF--
Warning: PHP Startup: Invalid value 'maybe' for sentinel.tls: expected on or off (1/0, yes/no, true/false); keeping the default in %s on line %d

Warning: PHP Startup: Invalid value 'ca.crt' for sentinel.tls_cafile: expected an absolute path without NUL or line breaks; keeping the default in %s on line %d

Warning: PHP Startup: Invalid value 'sometimes' for sentinel.tls_verify: expected on or off (1/0, yes/no, true/false); keeping the default in %s on line %d
string(1) "0"
string(0) ""
string(1) "1"

Warning: ini_set(): Invalid value '1' for sentinel.tls: expected on or off (1/0, yes/no, true/false); keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '2' for sentinel.tls_verify: expected on or off (1/0, yes/no, true/false); keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '/etc/ssl/certs
' for sentinel.tls_capath: expected an absolute path without NUL or line breaks; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '/tmp/a' for sentinel.tls_cert: expected an absolute path without NUL or line breaks; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '../client.key' for sentinel.tls_key: expected an absolute path without NUL or line breaks; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value 'two words' for sentinel.tls_server_name: expected a host name: at most 255 printable characters without spaces; keeping the previous value in %s on line %d
bool(false)

Warning: ini_set(): Invalid value '%s' for sentinel.tls_server_name: expected a host name: at most 255 printable characters without spaces; keeping the previous value in %s on line %d
bool(false)
bool(true)
bool(true)
bool(true)
string(3) "yes"
bool(true)
bool(true)
bool(true)
ValueError: Sentinel\resolve(): Argument #2 ($options) option "tls_cafile" must be an absolute path without line breaks
ValueError: Sentinel\resolve(): Argument #2 ($options) option "tls_capath" must be an absolute path without line breaks
ValueError: Sentinel\resolve(): Argument #2 ($options) option "tls_server_name" must be a host name
TypeError: Sentinel\resolve(): Argument #2 ($options) option "tls_verify" must be of type bool, int given
TypeError: Sentinel\resolve(): Argument #2 ($options) option "tls_key" must be of type ?string, int given
ValueError: Sentinel\resolve(): Argument #2 ($options) contains unknown option "tls_bogus"
bool(true)
