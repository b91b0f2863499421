<?php
// Remembers settings holding two passwords, under keys holding them too:
// the options array itself, as the PHP glue keys them (hashed as it is
// walked, its encoding wiped), and a serialize() string of them (the older
// kind of key, still accepted), and ends: at shutdown the extension frees
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
// Keyed by the array itself, as the glue does.
$third = Sentinel\remember(['connect_timeout_ms' => 200] + $settings,
                           ['connect_timeout_ms' => 200] + $settings);
// A key whose password is encoded near the end of the encoder's 256-byte
// buffer, with a long value after it: the buffer is fed to the hash and
// refilled from its start, so the password's bytes sit past the last fill.
$pad = str_repeat('p', 150);
$long = str_repeat('l', 120);
$fourth = Sentinel\remember($settings, ['pad' => $pad, 'password' => $mark . '-key-pw', 'long' => $long]);
var_dump(is_int($fourth));
var_dump(is_int($id), is_int($other), is_int($third), $id !== $other, $other !== $third);
echo "done\n";
