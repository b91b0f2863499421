--TEST--
bindings: the sentinel list's TLS scheme is one the library can honour; tlsv1.3:// makes TLS 1.3 the sentinels' minimum
--DESCRIPTION--
PHP streams (so Credis) speak exactly TLS 1.3 for tlsv1.3://; the sentinels must not
accept less (tls_min_version "1.3"), unless the sentinel sub-array names its own
tls_min_version. tlsv1.2:// keeps the library's floor. tlsv1.0:// / tlsv1.1:// are below
what the library speaks and nonsense like tlsv2:// is no PHP transport: both refused
before any traffic. The scheme reaches Credis unchanged.
--EXTENSIONS--
sentinel
--INI--
sentinel.shared_cache=0
sentinel.watch=off
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\SentinelSettings;

function show(string $server, array $sub = [], array $tls = []): void
{
    $o = ['server' => $server, 'sentinel_master' => 'mymaster'];
    if ($sub) {
        $o['sentinel'] = $sub;
    }
    if ($tls) {
        $o['tls_options'] = $tls;
    }
    try {
        $s = SentinelSettings::fromCacheOptions($o);
        echo $server, ': ', $s->dataHost('10.0.0.3'), ' min ',
            var_export($s->resolveOptions()['tls_min_version'] ?? null, true), "\n";
    } catch (InvalidArgumentException $e) {
        echo $server, ': ', get_class($e), "\n";
    }
}

show('tls://127.0.0.1:1');
show('ssl://127.0.0.1:1');
show('tlsv1.2://127.0.0.1:1');
show('tlsv1.3://127.0.0.1:1');
show('TLSv1.3://127.0.0.1:1');
show('tlsv1.3://127.0.0.1:1,tlsv1.3://127.0.0.1:2');
show('tlsv1.3://127.0.0.1:1', [], ['min_proto_version' => STREAM_CRYPTO_PROTO_TLSv1_2]);
echo 'sub-array wins: ';
show('tlsv1.3://127.0.0.1:1', ['tls_min_version' => '1.2']);
show('tlsv1.1://127.0.0.1:1');
show('tlsv1.0://127.0.0.1:1');
show('tlsv2://127.0.0.1:1');
show('tlsv1.2://127.0.0.1:1,tlsv1.3://127.0.0.1:2');

// Sessions take the same path.
$t = SentinelSettings::fromSessionValues('tlsv1.3://127.0.0.1:1', 'sess', '1', '1', '', 0, 2.5);
echo 'session: ', $t->dataHost('10.0.0.3'), ' min ', var_export($t->resolveOptions()['tls_min_version'] ?? null, true), "\n";
try {
    new SentinelSettings(['127.0.0.1:1'], 'mymaster', scheme: 'tlsv1.1');
} catch (InvalidArgumentException $e) {
    echo 'constructor: ', $e->getMessage(), "\n";
}
?>
--EXPECT--
tls://127.0.0.1:1: tls://10.0.0.3 min NULL
ssl://127.0.0.1:1: ssl://10.0.0.3 min NULL
tlsv1.2://127.0.0.1:1: tlsv1.2://10.0.0.3 min NULL
tlsv1.3://127.0.0.1:1: tlsv1.3://10.0.0.3 min '1.3'
TLSv1.3://127.0.0.1:1: tlsv1.3://10.0.0.3 min '1.3'
tlsv1.3://127.0.0.1:1,tlsv1.3://127.0.0.1:2: tlsv1.3://10.0.0.3 min '1.3'
tlsv1.3://127.0.0.1:1: tlsv1.3://10.0.0.3 min '1.3'
sub-array wins: tlsv1.3://127.0.0.1:1: tlsv1.3://10.0.0.3 min '1.2'
tlsv1.1://127.0.0.1:1: InvalidArgumentException
tlsv1.0://127.0.0.1:1: InvalidArgumentException
tlsv2://127.0.0.1:1: InvalidArgumentException
tlsv1.2://127.0.0.1:1,tlsv1.3://127.0.0.1:2: InvalidArgumentException
session: tlsv1.3://10.0.0.3 min '1.3'
constructor: bad TLS scheme 'tlsv1.1' (tls, ssl, tlsv1.2 or tlsv1.3)
