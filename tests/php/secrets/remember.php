<?php
// Remembers settings holding two passwords, under a key made as the PHP
// glue makes it (serialize() of the options, passwords included), uses
// them once by id and by key, and ends: at shutdown the extension frees
// what it remembered. The passwords are built from the environment at run
// time, so no copy of them sits in the script or in PHP's own tables; the
// marker is the variable reversed (free_scan.c says why).
$mark = strrev(getenv('SN_FREE_SCAN_MARK'));
$settings = [
    'master' => 'mymaster',
    'sentinels' => '127.0.0.1:1',
    'sentinel_password' => $mark . '-sentinel-pw',
    'data_password' => $mark . '-data-pw',
];
$id = Sentinel\remember($settings, serialize($settings));
// A second set under a second key.
$other = Sentinel\remember(['connect_timeout_ms' => 100] + $settings,
                           serialize(['connect_timeout_ms' => 100] + $settings));
var_dump(is_int($id), is_int($other), $id !== $other);
echo "done\n";
