--TEST--
sentinel: remember() keeps settings once; resolve_remembered() answers by id or key as resolve() does, false for unknown ones
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(true); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$master = (int)sn_ctl('master-port');
$settings = ['master' => sn_master_name()] + sn_opts();

// Unknown ids and keys: false (a new worker remembers nothing yet).
var_dump(Sentinel\resolve_remembered(1), Sentinel\resolve_remembered('cache-config'));

$id = Sentinel\remember($settings, 'cache-config');
var_dump($id >= 1, Sentinel\remember($settings) === $id, Sentinel\remember($settings, 'cache-config') === $id);
// Other settings: another id.
$other = Sentinel\remember(['connect_timeout_ms' => 100] + $settings, 'other-config');
var_dump($other !== $id, Sentinel\resolve_remembered(999));
// Two keys for equal settings (two backends whose options differ where the
// sentinels do not care): both keep answering, neither pushes the other out.
var_dump(Sentinel\remember($settings, 'page-cache-config') === $id,
         Sentinel\resolve_remembered('cache-config')['port'] === $master,
         Sentinel\resolve_remembered('page-cache-config')['port'] === $master);

// The answer of resolve(), by id and by key.
$r = Sentinel\resolve(sn_master_name(), sn_opts());
foreach ([$id, 'cache-config'] as $name) {
    $m = Sentinel\resolve_remembered($name);
    echo implode(',', array_keys($m)), "\n";
    var_dump($m['host'] === $r['host'], $m['port'] === $master, $m['epoch'] === $r['epoch'],
             $m['epoch'] === Sentinel\epoch(sn_master_name(), sn_opts()), $m['source'], $m['tls']);
}

// Through the same resolution: counted, and after invalidate() the sentinels are asked again.
$s0 = Sentinel\stats();
Sentinel\resolve_remembered($id);
$s1 = Sentinel\stats();
var_dump($s1['resolutions'] - $s0['resolutions'], $s1['remembered_resolutions'] - $s0['remembered_resolutions'],
         $s1['calls'] - $s0['calls']);
Sentinel\invalidate(sn_master_name(), null, null, sn_opts());
$m = Sentinel\resolve_remembered('cache-config');
var_dump($m['port'] === $master, $m['source']);

// Refused as resolve() refuses them.
foreach ([['bogus' => 1] + $settings, ['connect_timeout_ms' => -1] + $settings] as $bad) {
    try {
        Sentinel\remember($bad);
    } catch (ValueError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
try {
    Sentinel\remember(sn_opts());
} catch (Sentinel\Exception $e) {
    var_dump($e->getCode() === Sentinel\Exception::INVALID_ARGUMENT);
}
try {
    Sentinel\remember($settings, '');
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
}

// A remembered master that cannot be resolved throws, as resolve() does.
$nobody = Sentinel\remember(['master' => 'no-such-master', 'timeout_ms' => 500] + $settings);
try {
    Sentinel\resolve_remembered($nobody);
} catch (Sentinel\Exception $e) {
    var_dump($e->getCode() === Sentinel\Exception::UNKNOWN_MASTER);
}
?>
--EXPECT--
bool(false)
bool(false)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
host,port,epoch,source,tls
bool(true)
bool(true)
bool(true)
bool(true)
string(5) "cache"
bool(false)
host,port,epoch,source,tls
bool(true)
bool(true)
bool(true)
bool(true)
string(5) "cache"
bool(false)
int(1)
int(1)
int(1)
bool(true)
string(8) "sentinel"
ValueError: Sentinel\remember(): Argument #1 ($settings) contains unknown option "bogus"
ValueError: Sentinel\remember(): Argument #1 ($settings) option "connect_timeout_ms" must be between 0 and 86400000
bool(true)
Sentinel\remember(): Argument #2 ($key) must not be empty
bool(true)
