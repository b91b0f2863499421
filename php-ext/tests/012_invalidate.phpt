--TEST--
sentinel: invalidate() and report_error() forget the cached master
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
foreach ([false, true] as $shared) {
    echo "shared_cache=", var_export($shared, true), "\n";
    $o = sn_opts(['shared_cache' => $shared]);
    $name = sn_master_name();
    $r = Sentinel\resolve($name, $o);
    $host = $r['host'];
    $port = $r['port'];
    var_dump(Sentinel\resolve($name, $o)['source'] !== 'sentinel');

    // An error that says nothing about the master changes nothing.
    var_dump(Sentinel\report_error($host, $port, 'WRONGTYPE Operation against a key holding the wrong kind of value', $name, $o));
    var_dump(Sentinel\resolve($name, $o)['source'] !== 'sentinel');

    // READONLY means the node was demoted: forget it, ask again.
    var_dump(Sentinel\report_error($host, $port, "READONLY You can't write against a read only replica.", $name, $o));
    var_dump(Sentinel\resolve($name, $o)['source']);

    // A late error about another address does not erase the answer.
    var_dump(Sentinel\invalidate($name, '127.0.0.1', 1, $o));
    var_dump(Sentinel\resolve($name, $o)['source'] !== 'sentinel');

    // A lost connection, then a plain invalidate().
    var_dump(Sentinel\report_error($host, $port, 'read error on connection to 127.0.0.1:6379', $name, $o));
    var_dump(Sentinel\resolve($name, $o)['source']);
    var_dump(Sentinel\invalidate($name, null, null, $o));
    var_dump(Sentinel\resolve($name, $o)['source']);
}
var_dump(Sentinel\stats()['invalidations']);
?>
--EXPECT--
shared_cache=false
bool(true)
bool(false)
bool(true)
bool(true)
string(8) "sentinel"
bool(false)
bool(true)
bool(true)
string(8) "sentinel"
bool(true)
string(8) "sentinel"
shared_cache=true
bool(true)
bool(false)
bool(true)
bool(true)
string(8) "sentinel"
bool(false)
bool(true)
bool(true)
string(8) "sentinel"
bool(true)
string(8) "sentinel"
int(6)
