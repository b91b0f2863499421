--TEST--
sentinel: every sentinel refusing and nothing cached: a clear NO_SENTINEL_REACHABLE after two rounds (within 1 s), with the library's default timeouts
--EXTENSIONS--
sentinel
--FILE--
<?php
// Ports nothing listens on: bound, then closed.
$ports = [];
for ($i = 0; $i < 3; $i++) {
    $s = stream_socket_server('tcp://127.0.0.1:0');
    $ports[] = (int)substr(strrchr(stream_socket_get_name($s, false), ':'), 1);
    fclose($s);
}
$list = implode(',', array_map(fn ($p) => "127.0.0.1:$p", $ports));

// The sentinel timeouts are the library's defaults (250 / 250 / 5000 ms):
// nothing maps a Redis client's timeout onto them.
var_dump(ini_get('sentinel.connect_timeout_ms'), ini_get('sentinel.command_timeout_ms'),
         ini_get('sentinel.timeout_ms'));

foreach ([['shared_cache' => false, 'watch' => false], ['watch' => false], []] as $extra) {
    $before = Sentinel\stats()['sentinel_failures'];
    try {
        Sentinel\resolve('mymaster', ['sentinels' => $list] + $extra);
        echo "resolved?\n";
    } catch (Sentinel\Exception $e) {
        var_dump($e->getCode() === Sentinel\Exception::NO_SENTINEL_REACHABLE);
        var_dump(str_contains($e->getMessage(), 'no sentinel answered: gave up after 2 rounds'));
    }
    // Two rounds of three refused sentinels, not 20 tries over 5 s.
    var_dump(Sentinel\stats()['sentinel_failures'] - $before);
}
?>
--EXPECT--
string(3) "250"
string(3) "250"
string(4) "5000"
bool(true)
bool(true)
int(6)
bool(true)
bool(true)
int(6)
bool(true)
bool(true)
int(6)
