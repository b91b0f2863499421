--TEST--
sentinel: a shared cache file another user owns (or too open) is not used: quiet fallback (one SAPI log line, no warning), said in stats(); with the group setting it is shared
--EXTENSIONS--
sentinel
--SKIPIF--
<?php
require __DIR__ . '/topology.inc';
sn_skip_without_topology();
if (trim((string)shell_exec('id -u')) !== '0') die('skip needs root to give the file to another user');
?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
$o = sn_opts(['shared_cache' => true]);
$name = sn_master_name();
$r = Sentinel\resolve($name, $o);
$path = null;
foreach (Sentinel\stats()['masters'] as $m) {
    $path = $m['shared_cache'] ?? $path;
}
var_dump(is_string($path) && is_file($path));

// A worker of another pool, as a framework runs it: any warning is an exception.
$php = getenv('TEST_PHP_EXECUTABLE') ?: PHP_BINARY;
$args = getenv('TEST_PHP_EXTRA_ARGS') ?: '';
$log = tempnam(sys_get_temp_dir(), 'sn-log');
function worker(string $extra_ini = ''): string
{
    global $php, $args, $log, $name, $o;
    $code = 'set_error_handler(function ($no, $msg) { throw new ErrorException($msg, 0, $no); });'
        . 'try { for ($i = 0; $i < 3; $i++) { $r = Sentinel\resolve(' . var_export($name, true) . ', '
        . var_export($o, true) . '); }'
        . ' echo $r["port"], "|", Sentinel\stats()["shared_cache_mode"], "\n"; }'
        . ' catch (Throwable $e) { echo get_class($e), ": ", $e->getMessage(), "\n"; }';
    $ini = '';
    foreach (['extension', 'sentinel.shared_cache_dir'] as $k) {
        foreach ((array)ini_get_all(null, false) as $key => $v) {
            if ($key === $k && $v !== '' && $v !== false) {
                $ini .= ' -d ' . escapeshellarg("$k=$v");
            }
        }
    }
    $ini .= ' -d log_errors=1 -d display_errors=1 -d error_log=' . escapeshellarg($log) . $extra_ini;
    return trim((string)shell_exec(escapeshellarg($php) . " $args $ini -r " . escapeshellarg($code) . ' 2>&1'));
}

// Owned by another (non-root) user: refused, quietly.
chown($path, 65534);
$out = worker();
echo str_replace([(string)$r['port'], $path], ['PORT', 'PATH'], $out), "\n";
$lines = file($log, FILE_IGNORE_NEW_LINES);
var_dump(count($lines));
var_dump(str_contains($lines[0], 'sentinel: shared cache unavailable: ' . $path . ': owned by uid 65534'));

// Ours but writable by others: refused too.
chown($path, 0);
chmod($path, 0666);
echo str_replace([(string)$r['port'], $path], ['PORT', 'PATH'], worker()), "\n";

// The group setting: a file of that group, 0660, is shared whoever owns it.
chown($path, 65534);
chgrp($path, 65534);
chmod($path, 0660);
echo str_replace([(string)$r['port'], $path], ['PORT', 'PATH'],
    worker(' -d sentinel.shared_cache_group=65534 -d sentinel.shared_cache_mode=0660')), "\n";
unlink($log);
?>
--CLEAN--
<?php
require __DIR__ . '/topology.inc';
foreach (glob(getenv('SENTINEL_TEST_DIR') . '/libsentinel-*.shm') ?: [] as $f) {
    if (fileowner($f) !== 0 || (fileperms($f) & 0777) !== 0600) {
        unlink($f);
    }
}
?>
--EXPECT--
bool(true)
PORT|unavailable: PATH: owned by uid 65534, neither us (uid 0) nor root (SENTINEL_ERR_SYSTEM)
int(1)
bool(true)
PORT|unavailable: PATH: mode 0666 is too open (expected 0600) (SENTINEL_ERR_SYSTEM)
PORT|shared: PATH
