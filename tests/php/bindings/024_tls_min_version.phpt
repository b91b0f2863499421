--TEST--
bindings: the TLS options' min_proto_version / crypto_method map onto the extension's tls_min_version for the sentinels
--DESCRIPTION--
Credis / Cm_Cache take PHP ssl context options ('tls_options'); a minimum protocol
version there (min_proto_version, or a crypto_method allowing only TLS 1.3) must hold
for the sentinel connections too, which the extension makes: tls_min_version "1.3".
Anything lower is "1.2", the library's floor. The sentinel sub-array's own
tls_min_version wins; the session config's TLS options map the same way.
--EXTENSIONS--
sentinel
--INI--
sentinel.shared_cache=0
sentinel.watch=off
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
use LibSentinel\Magento\SentinelSettings;

function min_of(array $tls, array $sub = []): string
{
    $o = ['server' => 'tls://127.0.0.1:1', 'sentinel_master' => 'mymaster', 'tls_options' => $tls];
    if ($sub) {
        $o['sentinel'] = $sub;
    }
    $s = SentinelSettings::fromCacheOptions($o);
    return var_export($s->resolveOptions()['tls_min_version'] ?? null, true);
}

echo 'none: ', min_of(['cafile' => '/etc/ssl/certs/ca-certificates.crt']), "\n";
echo 'min_proto_version 1.3: ', min_of(['min_proto_version' => STREAM_CRYPTO_PROTO_TLSv1_3]), "\n";
echo 'min_proto_version 1.2: ', min_of(['min_proto_version' => STREAM_CRYPTO_PROTO_TLSv1_2]), "\n";
echo 'min_proto_version 1.0: ', min_of(['min_proto_version' => STREAM_CRYPTO_PROTO_TLSv1_0]), "\n";
echo 'crypto_method 1.3 only: ', min_of(['crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT]), "\n";
echo 'crypto_method 1.2|1.3: ', min_of(['crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT
    | STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT]), "\n";
echo 'crypto_method any TLS: ', min_of(['crypto_method' => STREAM_CRYPTO_METHOD_TLS_CLIENT]), "\n";
echo 'min_proto_version wins over crypto_method: ', min_of(['min_proto_version' => STREAM_CRYPTO_PROTO_TLSv1_2,
    'crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT]), "\n";
echo 'sentinel sub-array wins: ', min_of(['min_proto_version' => STREAM_CRYPTO_PROTO_TLSv1_3],
    ['tls_min_version' => '1.2']), "\n";
try {
    min_of(['min_proto_version' => 'TLSv1.3']);
} catch (InvalidArgumentException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}

// Sessions: the config's TLS options.
$t = SentinelSettings::fromSessionValues('tls://127.0.0.1:1', 'sess', '1', '1', '', 0, 2.5, null, null,
    ['crypto_method' => STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT]);
echo 'session: ', var_export($t->resolveOptions()['tls_min_version'] ?? null, true), "\n";
// And back for the sentinels' own PHP context.
echo 'context: ', var_export($t->sentinelTlsContext()['min_proto_version'] === STREAM_CRYPTO_PROTO_TLSv1_3, true), "\n";

// The extension takes what the bindings pass: the sentinel is down, not the option refused.
$s = SentinelSettings::fromCacheOptions(['server' => 'tls://127.0.0.1:1', 'sentinel_master' => 'mymaster',
    'tls_options' => ['min_proto_version' => STREAM_CRYPTO_PROTO_TLSv1_3]]);
try {
    Sentinel\resolve('mymaster', $s->resolveOptions());
} catch (Sentinel\Exception $e) {
    var_dump($e->getCode() === Sentinel\Exception::NO_SENTINEL_REACHABLE);
}
?>
--EXPECT--
none: NULL
min_proto_version 1.3: '1.3'
min_proto_version 1.2: '1.2'
min_proto_version 1.0: '1.2'
crypto_method 1.3 only: '1.3'
crypto_method 1.2|1.3: '1.2'
crypto_method any TLS: '1.2'
min_proto_version wins over crypto_method: '1.2'
sentinel sub-array wins: '1.2'
InvalidArgumentException: TLS option 'min_proto_version' must be an int (STREAM_CRYPTO_* constants)
session: '1.3'
context: true
bool(true)
