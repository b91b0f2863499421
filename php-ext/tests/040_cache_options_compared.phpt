--TEST--
sentinel: an options array equal to one found before is compared with a persistent copy, not hashed (remembered_key_hashes stays), and the comparison is exact: a different password, database, one more key, the same keys in another order, an int for a numeric string or a float for an int name other settings (or none), and the options answered are always the caller's
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$settings = ['master' => sn_master_name()] + sn_opts();

// Fresh arrays with fresh (not interned) strings each time, as Magento's
// Cache\Frontend\Factory builds them per request.
function opts(array $extra = []): array
{
    $o = ['server' => getenv('SENTINEL_TEST_SENTINELS'), 'sentinel_master' => sn_master_name(),
        'sentinel_master_verify' => '1', 'password' => 'pw-' . str_repeat('a', 3), 'database' => (string)(1 + 1),
        'timeout' => '2.5', 'compress_data' => '1'];
    foreach ($extra as $k => $v) {
        if ($v === null) {
            unset($o[$k]);
        } else {
            $o[$k] = $v;
        }
    }
    return $o;
}

$variants = [
    'base' => opts(),
    'other password' => opts(['password' => 'pw-aab']),
    'other database' => opts(['database' => '3']),
    'one more key' => opts(['read_timeout' => '10']),
    'one key less' => opts(['compress_data' => null]),
    'another order' => ['password' => 'pw-aaa'] + opts(),
    'int for a numeric string' => opts(['database' => 2]),
    'float for an int' => opts(['database' => 2.0]),
    'true for "1"' => opts(['compress_data' => true]),
    'null for ""' => opts(['compress_data' => null]) + ['compress_data' => null],
];
// Each variant its own settings (connect timeouts 101, 102, ...): its own id.
$ids = [];
$n = 100;
foreach ($variants as $what => $o) {
    $ids[$what] = Sentinel\remember(['connect_timeout_ms' => ++$n] + $settings, $o);
}
var_dump(count(array_unique($ids)) === count($variants));

// Every variant, fresh arrays, in rounds: each lands on its own settings,
// through the copies after the first round (up to four of them kept).
$wrong = [];
$hashes = [];
for ($round = 0; $round < 3; $round++) {
    $before = Sentinel\stats()['remembered_key_hashes'];
    foreach (['base', 'other password', 'base', 'other database', 'base', 'another order'] as $what) {
        $o = unserialize(serialize($variants[$what]));
        $direct = Sentinel\cache_options_remembered($o, $m);
        if ($direct === false || $m['id'] !== $ids[$what]) {
            $wrong[] = "$what: " . var_export($direct === false ? false : $m['id'], true);
        }
        // The parent's options are the caller's, not the copy's.
        $expect = $o;
        unset($expect['sentinel_master'], $expect['sentinel_master_verify']);
        $expect['server'] = $m['host'];
        $expect['port'] = $m['port'];
        if ($direct !== $expect) {
            $wrong[] = "$what: options " . json_encode($direct);
        }
    }
    $hashes[] = Sentinel\stats()['remembered_key_hashes'] - $before;
}
var_dump($wrong, $hashes);

// The others, each after the base was found (its copy kept): their own ids.
foreach ($variants as $what => $o) {
    Sentinel\cache_options_remembered(opts(), $m);
    $base = $m['id'];
    $direct = Sentinel\cache_options_remembered(unserialize(serialize($o)), $m);
    echo $what, ': ', $base === $ids['base'] ? 'base ok' : 'base WRONG', ', ',
        $direct !== false && $m['id'] === $ids[$what] ? 'own id' : 'WRONG ' . var_export($m['id'] ?? null, true),
        "\n";
}

// Options never remembered, equal to a kept copy but for one value: false.
var_dump(Sentinel\cache_options_remembered(opts(['password' => 'pw-zzz'])));
// Nested arrays (a sentinel password) cannot be copied: hashed every time, still found.
$nested = opts(['sentinel' => ['password' => 's']]);
$id = Sentinel\remember($settings, $nested);
$before = Sentinel\stats()['remembered_key_hashes'];
for ($i = 0; $i < 3; $i++) {
    Sentinel\cache_options_remembered(unserialize(serialize($nested)), $m);
    var_dump($m['id'] === $id);
}
var_dump(Sentinel\stats()['remembered_key_hashes'] - $before);
?>
--EXPECT--
bool(true)
array(0) {
}
array(3) {
  [0]=>
  int(4)
  [1]=>
  int(0)
  [2]=>
  int(0)
}
base: base ok, own id
other password: base ok, own id
other database: base ok, own id
one more key: base ok, own id
one key less: base ok, own id
another order: base ok, own id
int for a numeric string: base ok, own id
float for an int: base ok, own id
true for "1": base ok, own id
null for "": base ok, own id
bool(false)
bool(true)
bool(true)
bool(true)
int(3)
