--TEST--
sentinel: functions, exception class and error-code constants are registered
--EXTENSIONS--
sentinel
--FILE--
<?php
foreach (['resolve', 'invalidate', 'report_error', 'stats'] as $f) {
    var_dump(function_exists("Sentinel\\$f"));
}
$e = new Sentinel\Exception('x', Sentinel\Exception::TIMEOUT);
var_dump($e instanceof RuntimeException, $e->getCode());
$c = (new ReflectionClass(Sentinel\Exception::class))->getConstants();
print_r($c);
var_dump(phpversion('sentinel'));
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
int(7)
Array
(
    [INVALID_ARGUMENT] => 1
    [NO_MEMORY] => 2
    [NO_SENTINEL_REACHABLE] => 3
    [UNKNOWN_MASTER] => 4
    [AUTH] => 5
    [NOT_MASTER] => 6
    [TIMEOUT] => 7
    [PROTOCOL] => 8
    [HOST_UNRESOLVED] => 9
    [MASTER_UNREACHABLE] => 10
    [NO_QUORUM] => 11
    [SYSTEM] => 12
    [TLS] => 13
)
string(5) "0.1.0"
