--TEST--
sentinel: an id whose settings were forgotten (33rd remembered) answers false, never for the settings that took its place
--EXTENSIONS--
sentinel
--FILE--
<?php
// Nothing listens on port 1: resolving these settings throws, so an answer
// of false tells that the id named nothing, not a failed resolution.
$opts = ['sentinels' => '127.0.0.1:1', 'shared_cache' => false, 'watch' => false, 'timeout_ms' => 200];
$ids = [];
for ($i = 0; $i < 32; $i++) {
    $ids[] = Sentinel\remember(['master' => "m$i"] + $opts);
}
var_dump(count(array_unique($ids)));
// One more forgets the least recently used: m0's.
$new = Sentinel\remember(['master' => 'm32'] + $opts, 'k32');
var_dump(in_array($new, $ids, true), Sentinel\resolve_remembered($ids[0]));
// The settings that replaced it answer by their own id and key.
foreach ([$new, 'k32'] as $name) {
    try {
        Sentinel\resolve_remembered($name);
        echo "no exception\n";
    } catch (Sentinel\Exception $e) {
        echo "resolved and failed\n";
    }
}
// m0 remembered again: a new id, the old one stays forgotten.
$again = Sentinel\remember(['master' => 'm0'] + $opts);
var_dump($again !== $ids[0], Sentinel\resolve_remembered($ids[0]));
?>
--EXPECT--
int(32)
bool(false)
bool(false)
resolved and failed
resolved and failed
bool(true)
bool(false)
