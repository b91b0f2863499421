--TEST--
sentinel: an options array remembered again under other settings names the new ones at once, though a persistent copy of it named the old ones (the copies are dropped); an array changed through a reference after it was compared is compared anew
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$settings = ['master' => sn_master_name()] + sn_opts();

// Fresh arrays each time, as Magento builds them per request.
function opts(): array
{
    return ['server' => getenv('SENTINEL_TEST_SENTINELS'), 'sentinel_master' => sn_master_name(),
        'password' => 'pw-' . str_repeat('b', 3), 'database' => (string)(2 + 1)];
}

$old = Sentinel\remember(['connect_timeout_ms' => 211] + $settings, opts());
$ids = [];
for ($i = 0; $i < 3; $i++) { // the second and third through the copy
    Sentinel\cache_options_remembered(opts(), $m);
    $ids[] = $m['id'] === $old ? 'old' : var_export($m['id'], true);
}
// A deploy changed the settings, not the options: remembered again.
$new = Sentinel\remember(['connect_timeout_ms' => 212] + $settings, opts());
var_dump($new !== $old);
for ($i = 0; $i < 3; $i++) {
    Sentinel\cache_options_remembered(opts(), $m);
    $ids[] = $m['id'] === $new ? 'new' : ($m['id'] === $old ? 'OLD' : var_export($m['id'], true));
}
echo implode(' ', $ids), "\n";

// The same array, its password changed through a reference after it was
// compared: no longer the remembered options.
$pw = 'pw-bbb';
$o = opts();
$o['password'] = &$pw;
var_dump(Sentinel\cache_options_remembered($o, $m) !== false && $m['id'] === $new);
$pw = 'pw-ccc';
var_dump(Sentinel\cache_options_remembered($o));
?>
--EXPECT--
bool(true)
old old old new new new
bool(true)
bool(false)
