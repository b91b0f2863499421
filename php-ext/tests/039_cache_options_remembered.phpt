--TEST--
sentinel: cache_options_remembered() answers Cm_Cache backend_options remembered under themselves as the backend's parent takes them (sentinel keys dropped, the master's server and port) with resolve_remembered()'s answer, its id and a time in $master; false, $master untouched, for options it does not serve
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$master = (int)sn_ctl('master-port');
$settings = ['master' => sn_master_name()] + sn_opts();

// Cm_Cache backend_options in sentinel mode, a password among them.
$options = ['server' => getenv('SENTINEL_TEST_SENTINELS'), 'sentinel_master' => sn_master_name(),
    'sentinel_master_verify' => '1', 'sentinel' => ['password' => 'sentinel-pw'], 'password' => 'data-pw',
    'database' => '2', 'timeout' => '2.5', 'load_from_slave' => 'x', 'slave_select_callable' => 'f',
    'compress_data' => '1'];

// Not remembered yet: false, $master untouched.
$m = 'untouched';
var_dump(Sentinel\cache_options_remembered($options, $m), $m);

$id = Sentinel\remember($settings, $options);
$before = microtime(true);
$direct = Sentinel\cache_options_remembered($options, $m);
$after = microtime(true);
// The parent's options: no sentinel keys, the master's address, the rest as given.
var_dump($direct === ['server' => '127.0.0.1', 'password' => 'data-pw', 'database' => '2', 'timeout' => '2.5',
    'compress_data' => '1', 'port' => $master]);
// resolve_remembered()'s answer, its id and when.
$r = Sentinel\resolve_remembered($id);
var_dump(array_keys($m), $m['host'] === $r['host'], $m['port'] === $master, $m['epoch'] === $r['epoch'],
    $m['tls'], $m['id'] === $id, $m['at'] >= $before - 0.001 && $m['at'] <= $after + 0.001);
// The id names the settings for the cheap checks of later operations.
var_dump(Sentinel\epoch_remembered($m['id']) === $m['epoch']);
// $master is optional.
var_dump(Sentinel\cache_options_remembered($options)['port'] === $master);
// The caller's array is unchanged.
var_dump(isset($options['sentinel_master'], $options['sentinel']), $options['server'] === getenv('SENTINEL_TEST_SENTINELS'));

// Options it does not serve: false, $master untouched.
$cases = [
    'no sentinel_master' => ['sentinel_master' => ''] + $options,
    'no server' => array_diff_key($options, ['server' => 1]),
    'load_from_slaves' => ['load_from_slaves' => '1'] + $options,
    'other options (not remembered)' => ['database' => '3'] + $options,
];
foreach ($cases as $what => $o) {
    $m = 'untouched';
    echo $what, ': ', var_export(Sentinel\cache_options_remembered($o, $m), true), ' ', $m, "\n";
}
// Settings with TLS data nodes: the glue names the TLS host itself.
$tlsOptions = ['compress_data' => '0'] + $options;
Sentinel\remember(['tls' => true, 'tls_verify' => false] + $settings, $tlsOptions);
$m = 'untouched';
echo 'tls: ', var_export(Sentinel\cache_options_remembered($tlsOptions, $m), true), ' ', $m, "\n";
// Counted as a remembered resolution, as resolve_remembered().
$s = Sentinel\stats();
Sentinel\cache_options_remembered($options);
$t = Sentinel\stats();
var_dump($t['remembered_resolutions'] - $s['remembered_resolutions'], $t['calls'] - $s['calls']);
?>
--EXPECT--
bool(false)
string(9) "untouched"
bool(true)
array(7) {
  [0]=>
  string(4) "host"
  [1]=>
  string(4) "port"
  [2]=>
  string(5) "epoch"
  [3]=>
  string(6) "source"
  [4]=>
  string(3) "tls"
  [5]=>
  string(2) "id"
  [6]=>
  string(2) "at"
}
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
no sentinel_master: false untouched
no server: false untouched
load_from_slaves: false untouched
other options (not remembered): false untouched
tls: false untouched
int(1)
int(1)
