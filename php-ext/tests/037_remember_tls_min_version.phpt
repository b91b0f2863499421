--TEST--
sentinel: remember() keeps settings that differ only in tls_min_version apart (option or INI): settings asking for TLS 1.3 never reuse settings remembered with TLS 1.2 as the minimum
--EXTENSIONS--
sentinel
--FILE--
<?php
// No server is needed: remember() only reads and keeps the settings.
$base = ['master' => 'mymaster', 'sentinels' => '127.0.0.1:1,127.0.0.1:2', 'tls' => true];

$id12 = Sentinel\remember($base + ['tls_min_version' => '1.2'], 'tls-1.2');
$id13 = Sentinel\remember($base + ['tls_min_version' => '1.3'], 'tls-1.3');
var_dump($id12 !== $id13);
// Remembered again: each still names its own settings.
var_dump(Sentinel\remember($base + ['tls_min_version' => '1.2']) === $id12,
         Sentinel\remember($base + ['tls_min_version' => '1.3']) === $id13);

// The same from the INI: remembered under 1.2, then the INI asks for 1.3.
ini_set('sentinel.tls_min_version', '1.2');
$ini12 = Sentinel\remember($base, 'by-ini-1.2');
ini_set('sentinel.tls_min_version', '1.3');
$ini13 = Sentinel\remember($base, 'by-ini-1.3');
var_dump($ini12 !== $ini13, $ini13 === $id13);
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
