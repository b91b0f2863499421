--TEST--
sentinel: a sentinel.* INI setting changed after remember() is picked up: resolve_remembered() answers false for settings read before, and remembering them again reads the INI of now
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$master = (int)sn_ctl('master-port');
// No "master" option: the master name comes from sentinel.master_name.
$opts = ['timeout_ms' => 500] + sn_opts();

ini_set('sentinel.master_name', 'no-such-master');
$id = Sentinel\remember($opts, 'by-ini');
try {
    Sentinel\resolve_remembered('by-ini');
} catch (Sentinel\Exception $e) {
    var_dump($e->getCode() === Sentinel\Exception::UNKNOWN_MASTER);
}

// The INI now names the real master: the settings read before are forgotten.
ini_set('sentinel.master_name', sn_master_name());
var_dump(Sentinel\resolve_remembered('by-ini'), Sentinel\resolve_remembered($id));
$id2 = Sentinel\remember($opts, 'by-ini');
var_dump(Sentinel\resolve_remembered('by-ini')['port'] === $master,
         Sentinel\resolve_remembered($id2)['port'] === $master);

// A refused INI value changes nothing: the settings stay remembered.
var_dump(@ini_set('sentinel.connect_timeout_ms', '-5'));
var_dump(Sentinel\resolve_remembered('by-ini')['port'] === $master);

// Any other accepted sentinel.* change (even one these settings override) forgets them too.
ini_set('sentinel.cache_ttl_ms', '30000');
var_dump(Sentinel\resolve_remembered('by-ini'));
// ini_restore() is a change as well (as the end of a request is).
Sentinel\remember($opts, 'by-ini');
ini_restore('sentinel.master_name');
var_dump(Sentinel\resolve_remembered('by-ini'));
?>
--EXPECT--
bool(true)
bool(false)
bool(false)
bool(true)
bool(true)
bool(false)
bool(true)
bool(false)
bool(false)
