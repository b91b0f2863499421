--TEST--
sentinel: bad per-call options and missing settings throw before any network traffic
--EXTENSIONS--
sentinel
--INI--
sentinel.sentinels=
sentinel.master_name=
--FILE--
<?php
function attempt(callable $f): void
{
    try {
        $f();
        echo "no exception\n";
    } catch (Throwable $e) {
        echo get_class($e), ' [', $e->getCode(), '] ', $e->getMessage(), "\n";
    }
}
$s = ['sentinels' => '127.0.0.1:1'];
attempt(fn() => Sentinel\resolve());
attempt(fn() => Sentinel\resolve('m'));
attempt(fn() => Sentinel\resolve('m', $s + ['nope' => 1]));
attempt(fn() => Sentinel\resolve('m', $s + ['timeout_ms' => -1]));
attempt(fn() => Sentinel\resolve('m', $s + ['timeout_ms' => '100']));
attempt(fn() => Sentinel\resolve('m', $s + ['shared_cache' => 1]));
attempt(fn() => Sentinel\resolve('m', $s + ['data_password' => []]));
attempt(fn() => Sentinel\resolve('m', ['sentinels' => 'nonsense']));
attempt(fn() => Sentinel\resolve('m', ['sentinels' => ['127.0.0.1:1', 7]]));
attempt(fn() => Sentinel\resolve('bad name', $s));
attempt(fn() => Sentinel\resolve('m', $s + ['data_user' => 'u']));
attempt(fn() => Sentinel\resolve('m', [0 => 'x']));
attempt(fn() => Sentinel\invalidate('m', '127.0.0.1', null, $s));
attempt(fn() => Sentinel\report_error('127.0.0.1', 0, 'x', 'm', $s));
?>
--EXPECT--
Sentinel\Exception [1] INVALID_ARGUMENT: no master name: pass one or set sentinel.master_name
Sentinel\Exception [1] INVALID_ARGUMENT: no sentinels: pass the "sentinels" option or set sentinel.sentinels
ValueError [0] Sentinel\resolve(): Argument #2 ($options) contains unknown option "nope"
ValueError [0] Sentinel\resolve(): Argument #2 ($options) option "timeout_ms" must be between 0 and 86400000
TypeError [0] Sentinel\resolve(): Argument #2 ($options) option "timeout_ms" must be of type int, string given
TypeError [0] Sentinel\resolve(): Argument #2 ($options) option "shared_cache" must be of type bool, int given
TypeError [0] Sentinel\resolve(): Argument #2 ($options) option "data_password" must be of type ?string, array given
Sentinel\Exception [1] INVALID_ARGUMENT: bad address 'nonsense': expected HOST:PORT
ValueError [0] Sentinel\resolve(): Argument #2 ($options) option "sentinels" must list non-empty "host:port" strings
Sentinel\Exception [1] INVALID_ARGUMENT: invalid master name 'bad name'
Sentinel\Exception [1] INVALID_ARGUMENT: a user needs a password
ValueError [0] Sentinel\resolve(): Argument #2 ($options) must be an array with string keys
ValueError [0] Sentinel\invalidate(): Argument #3 ($port) must be a port from 1 to 65535 when $host is given
ValueError [0] Sentinel\report_error(): Argument #2 ($port) must be a port from 1 to 65535
