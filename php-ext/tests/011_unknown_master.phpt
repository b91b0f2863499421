--TEST--
sentinel: an unknown master name throws UNKNOWN_MASTER, not a timeout
--EXTENSIONS--
sentinel
--SKIPIF--
<?php require __DIR__ . '/topology.inc'; sn_skip_without_topology(); ?>
--FILE--
<?php
require __DIR__ . '/topology.inc';
try {
    Sentinel\resolve('no-such-master', sn_opts());
    echo "resolved?\n";
} catch (Sentinel\Exception $e) {
    var_dump($e->getCode() === Sentinel\Exception::UNKNOWN_MASTER);
    var_dump(str_starts_with($e->getMessage(), "UNKNOWN_MASTER: master 'no-such-master'"));
}
var_dump(Sentinel\stats()['errors']);
?>
--EXPECT--
bool(true)
bool(true)
int(1)
