--TEST--
sentinel: remember()/resolve_remembered() keyed by an array: equal contents name the same settings; any changed value, type or nesting names none (a changed password never reuses settings remembered for another)
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$master = (int)sn_ctl('master-port');
$settings = ['master' => sn_master_name()] + sn_opts();

// The PHP glue's key: Cm_Cache backend_options as they come from env.php.
$options = ['server' => 'sentinels', 'sentinel_master' => sn_master_name(), 'password' => 'pw-one',
    'database' => '0', 'timeout' => 2.5, 'compress' => true, 'nested' => ['ssl' => ['verify_peer' => false]]];
$id = Sentinel\remember($settings, $options);
$r = Sentinel\resolve_remembered($options);
var_dump($r['port'] === $master, Sentinel\resolve_remembered($id)['port'] === $master);

// The same contents built anew (another array, a reference in it): the same settings.
$copy = [];
foreach ($options as $k => $v) {
    $copy[$k] = $v;
}
$copy['database'] = implode('', ['', '0']);
$pw = 'pw-one';
$copy['password'] = &$pw;
var_dump(Sentinel\resolve_remembered($copy)['port'] === $master);

// Anything changed: remembered for nothing (false), never the other settings.
$changed = [
    'password' => ['password' => 'pw-two'] + $options,
    'no password' => array_diff_key($options, ['password' => 1]),
    'password null' => ['password' => null] + $options,
    'sentinels' => ['server' => 'other'] + $options,
    'database' => ['database' => '1'] + $options,
    'database as int' => ['database' => 0] + $options,
    'timeout as string' => ['timeout' => '2.5'] + $options,
    'bool as int' => ['compress' => 1] + $options,
    'nested value' => ['nested' => ['ssl' => ['verify_peer' => true]]] + $options,
    'nested flattened' => ['nested' => ['ssl', 'verify_peer', false]] + $options,
    'an extra option' => $options + ['load_from_slaves' => '1'],
    'int key' => [0 => 'server'] + $options,
    'empty' => [],
];
foreach ($changed as $what => $key) {
    echo $what, ': ', var_export(Sentinel\resolve_remembered($key), true), "\n";
}
// A string key and an array holding it are different keys.
Sentinel\remember($settings, 'config');
var_dump(is_array(Sentinel\resolve_remembered('config')), Sentinel\resolve_remembered(['config']));

// The other password remembered: each key answers for its own settings.
$other = Sentinel\remember(['connect_timeout_ms' => 100] + $settings, ['password' => 'pw-two'] + $options);
var_dump($other !== $id);
Sentinel\remember(['master' => 'no-such-master', 'timeout_ms' => 500] + $settings, ['password' => 'pw-three'] + $options);
try {
    Sentinel\resolve_remembered(['password' => 'pw-three'] + $options);
} catch (Sentinel\Exception $e) {
    var_dump($e->getCode() === Sentinel\Exception::UNKNOWN_MASTER);
}
var_dump(Sentinel\resolve_remembered($options)['port'] === $master);

// An array holding an object names nothing; remember() still answers its id.
$odd = ['server' => new stdClass()] + $options;
$oddId = Sentinel\remember($settings, $odd);
var_dump($oddId === $id, Sentinel\resolve_remembered($odd), Sentinel\resolve_remembered($oddId)['port'] === $master);
try {
    Sentinel\remember($settings, 1.5);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
try {
    Sentinel\resolve_remembered(null);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
password: false
no password: false
password null: false
sentinels: false
database: false
database as int: false
timeout as string: false
bool as int: false
nested value: false
nested flattened: false
an extra option: false
int key: false
empty: false
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
Sentinel\remember(): Argument #2 ($key) must be of type array|string|null, float given
Sentinel\resolve_remembered(): Argument #1 ($id) must be of type array|string|int, null given
