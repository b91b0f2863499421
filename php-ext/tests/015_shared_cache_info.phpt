--TEST--
sentinel: php --ri sentinel says whether the shared cache the INI settings name is usable, without creating it
--EXTENSIONS--
sentinel
--FILE--
<?php
$php = getenv('TEST_PHP_EXECUTABLE') ?: PHP_BINARY;
$args = getenv('TEST_PHP_EXTRA_ARGS') ?: '';
$dir = sys_get_temp_dir() . '/sn-ri-' . getmypid();
@mkdir($dir, 0700);
function ri(string $extra): string
{
    global $php, $dir, $args;
    $cmd = escapeshellarg($php) . " $args"
        . ' -d sentinel.master_name=mymaster -d sentinel.sentinels=127.0.0.1:1'
        . ' -d ' . escapeshellarg("sentinel.shared_cache_dir=$dir") . " $extra --ri sentinel 2>&1";
    preg_match('/^Shared cache => (.*)$/m', (string)shell_exec($cmd), $m);
    return str_replace($dir, 'DIR', $m[1] ?? '(no line)');
}
echo preg_replace('/[0-9a-f]{16}/', 'HASH', ri('')), "\n";
var_dump(glob("$dir/*"));                       // not created by looking
echo ri('-d sentinel.shared_cache_mode=0660'), "\n";
echo ri('-d sentinel.shared_cache=off'), "\n";

// A file another user owns (root only: only root can give a file away).
$code = 'Sentinel\resolve("mymaster", ["sentinels" => "127.0.0.1:1", "watch" => false]);';
shell_exec(escapeshellarg($php) . " $args"
    . ' -d ' . escapeshellarg("sentinel.shared_cache_dir=$dir") . ' -r ' . escapeshellarg("try { $code } catch (Throwable \$e) {}"));
$files = glob("$dir/*.shm");
var_dump(count($files));
if (trim((string)shell_exec('id -u')) === '0') {
    chown($files[0], 65534);
    echo preg_replace('/[0-9a-f]{16}/', 'HASH', ri('')), "\n";
} else {
    echo "unavailable: DIR/libsentinel-HASH.shm: owned by uid 65534, neither us (uid 0) nor root (SENTINEL_ERR_SYSTEM)\n";
}
array_map('unlink', glob("$dir/*"));
rmdir($dir);
?>
--EXPECT--
not created yet: DIR/libsentinel-HASH.shm
array(0) {
}
unavailable: sentinel.shared_cache_mode=0660 needs sentinel.shared_cache_group
off (sentinel.shared_cache)
int(1)
unavailable: DIR/libsentinel-HASH.shm: owned by uid 65534, neither us (uid 0) nor root (SENTINEL_ERR_SYSTEM)
