<?php

declare(strict_types=1);

namespace LibSentinel\Magento;

/**
 * The sentinel settings Magento users already write, parsed once:
 * Cm_Cache's backend_options (server = comma-separated sentinels,
 * sentinel_master, sentinel_master_verify, password, username, database,
 * persistent, timeout, read_timeout, connect_retries, and the 'sentinel'
 * sub-array: password, username, timeout, read_timeout) or Cm_RedisSession's
 * session/redis keys (sentinel_servers, sentinel_master,
 * sentinel_verify_master, sentinel_connect_retries, timeout; username and the
 * sentinel password from UsernameConfigInterface /
 * ConfigSentinelPasswordInterface). Cm_RedisSession names no sentinel
 * timeout, so sessions keep the extension's (see resolveOptions()).
 *
 * Unlike Cm, the data password is not sent to the sentinels: a sentinel
 * password is only the one named for them ('sentinel' => ['password' => ...]
 * for the cache, getSentinelPassword() for sessions).
 *
 * TLS (see bindings/php/README.md, "TLS"): a TLS scheme on the sentinel list
 * ("tls://10.0.0.1:26379,tls://10.0.0.2:26379"; tls, ssl, tlsv1.2, tlsv1.3
 * as Credis takes them; tlsv1.3 is also the sentinels' minimum) turns TLS on for the sentinels and the data nodes (the
 * extension checks a new master's ROLE over the same TLS), and the master's
 * address handed to Credis keeps that scheme ("tls://10.0.0.3"). So does
 * 'sentinel' => ['tls' => true], or the INI setting sentinel.tls = on when
 * neither says otherwise. The data node's TLS context options (PHP's ssl
 * context: cafile, local_cert, local_pk, peer_name, verify_peer...) are
 * Credis' tlsOptions: the cache's 'tls_options' array, or a session config's
 * getTlsOptions() (TlsOptionsConfigInterface); the ones the extension also
 * has (cafile -> tls_cafile, capath -> tls_capath, local_cert -> tls_cert,
 * local_pk -> tls_key, peer_name -> tls_server_name, verify_peer ->
 * tls_verify; min_proto_version, or else a crypto_method that allows
 * nothing below TLS 1.3 -> tls_min_version "1.3", any lower minimum -> "1.2",
 * the library's floor) are used for the sentinels as well, unless the
 * cache's 'sentinel' sub-array names the extension's option itself
 * ('tls_cafile', 'tls_capath', 'tls_cert', 'tls_key', 'tls_server_name',
 * 'tls_verify', 'tls_min_version'); the INI settings sentinel.tls_* fill in
 * what neither sets.
 *
 * Knows nothing about Magento or Credis, so it is tested on its own.
 */
final class SentinelSettings
{
    public const DEFAULT_SENTINEL_PORT = 26379;

    /**
     * @param list<string> $sentinels "host:port"
     */
    public function __construct(
        public readonly array $sentinels,
        public readonly string $master,
        public readonly bool $verifyMaster = true,
        public readonly ?string $password = null,
        public readonly int $database = 0,
        public readonly string $persistent = '',
        public readonly ?float $timeout = null,
        public readonly ?float $readTimeout = null,
        public readonly int $connectRetries = 1,
        public readonly ?string $sentinelPassword = null,
        public readonly ?string $username = null,
        public readonly ?string $sentinelUsername = null,
        public readonly ?float $sentinelTimeout = null,
        public readonly ?float $sentinelReadTimeout = null,
        public readonly ?string $scheme = null,
        public readonly ?array $tlsOptions = null,
        public readonly array $sentinelTls = [],
    ) {
        if ($sentinels === []) {
            throw new \InvalidArgumentException('no sentinels configured');
        }
        if ($master === '') {
            throw new \InvalidArgumentException('no sentinel master name configured');
        }
        if ($scheme !== null && !preg_match(self::TLS_SCHEME, $scheme)) {
            throw new \InvalidArgumentException("bad TLS scheme '$scheme' (tls, ssl, tlsv1.2 or tlsv1.3)");
        }
        foreach ($sentinelTls as $k => $v) {
            if (!in_array($k, self::SENTINEL_TLS_KEYS, true)) {
                throw new \InvalidArgumentException("unknown sentinel TLS option '$k' (the extension's: "
                    . implode(', ', self::SENTINEL_TLS_KEYS) . ')');
            }
        }
    }

    /**
     * The TLS schemes PHP's streams (so Credis) take that the library can
     * honour for the sentinels too: tls, ssl, tlsv1.2 and tlsv1.3 (which
     * also raises the sentinels' minimum to TLS 1.3, see tls()). tlsv1.0 /
     * tlsv1.1 are refused: the library speaks nothing below TLS 1.2.
     */
    public const TLS_SCHEME = '/^(?:tls|ssl|tlsv1\.[23])$/iD';

    /** The extension's TLS options (Sentinel\resolve(), INI sentinel.tls*). */
    public const SENTINEL_TLS_KEYS = ['tls', 'tls_cafile', 'tls_capath', 'tls_cert', 'tls_key',
                                      'tls_server_name', 'tls_verify', 'tls_min_version'];

    /** PHP ssl context options (Credis' tlsOptions) the extension also has, by its names. */
    private const CONTEXT_TO_SENTINEL = ['cafile' => 'tls_cafile', 'capath' => 'tls_capath',
        'local_cert' => 'tls_cert', 'local_pk' => 'tls_key', 'peer_name' => 'tls_server_name',
        'verify_peer' => 'tls_verify'];

    /**
     * The master's address as Credis / phpredis take it: "tls://host" when
     * the data nodes speak TLS, else the bare host.
     */
    public function dataHost(string $host): string
    {
        return $this->scheme === null ? $host : $this->scheme . '://' . $host;
    }

    /** Whether Cm_Cache backend_options ask for sentinel resolution at all. */
    public static function cacheOptionsUseSentinel(array $options): bool
    {
        return !empty($options['sentinel_master']) && !empty($options['server']);
    }

    /**
     * From Cm_Cache_Backend_Redis backend_options. Runs once per request
     * under PHP-FPM (PHP's statics do not outlive a request), so the options
     * a user leaves out cost no helper call.
     */
    public static function fromCacheOptions(array $options): self
    {
        $sub = isset($options['sentinel']) && is_array($options['sentinel']) ? $options['sentinel'] : null;
        $verify = $options['sentinel_master_verify'] ?? true;
        [$servers, $scheme] = self::parseServerList((string)($options['server'] ?? ''));
        $tlsOptions = self::optionalArray($options['tls_options'] ?? null, 'tls_options');
        // The sub-array's tls* keys are the extension's options (a misspelt one is refused).
        $sentinelTls = $sub === null ? [] : array_filter($sub, fn($k) => str_starts_with((string)$k, 'tls'),
            ARRAY_FILTER_USE_KEY);
        [$scheme, $sentinelTls] = self::tls($scheme, $tlsOptions, $sentinelTls);
        return new self(
            $servers,
            (string)($options['sentinel_master'] ?? ''),
            $verify === '1' || $verify === true || $verify === 1 ? true : self::flag($verify),
            isset($options['password']) ? self::optionalString($options['password']) : null,
            (int)($options['database'] ?? 0),
            (string)($options['persistent'] ?? ''),
            isset($options['timeout']) ? (float)$options['timeout'] : null,
            isset($options['read_timeout']) ? (float)$options['read_timeout'] : null,
            (int)($options['connect_retries'] ?? 1),
            $sub === null ? null : self::optionalString($sub['password'] ?? null),
            isset($options['username']) ? self::optionalString($options['username']) : null,
            $sub === null ? null : self::optionalString($sub['username'] ?? null),
            $sub === null ? null : self::optionalSeconds($sub['timeout'] ?? null),
            $sub === null ? null : self::optionalSeconds($sub['read_timeout'] ?? null),
            $scheme,
            $tlsOptions,
            $sentinelTls,
        );
    }

    /** From the session/redis keys of app/etc/env.php (as Cm\RedisSession reads them). */
    public static function fromSessionValues(
        string $servers,
        string $master,
        mixed $verify,
        mixed $connectRetries,
        ?string $password,
        int $database,
        ?float $timeout,
        ?string $username = null,
        ?string $sentinelPassword = null,
        ?array $tlsOptions = null,
    ): self {
        [$list, $scheme] = self::parseServerList($servers);
        [$scheme, $sentinelTls] = self::tls($scheme, $tlsOptions === [] ? null : $tlsOptions, []);
        return new self(
            $list,
            $master,
            self::flag($verify ?? true),
            self::optionalString($password),
            $database,
            '',
            $timeout,
            null,
            (int)($connectRetries ?? 1),
            self::optionalString($sentinelPassword),
            self::optionalString($username),
            null,
            null,
            null,
            $scheme,
            $tlsOptions === [] ? null : $tlsOptions,
            $sentinelTls,
        );
    }

    /**
     * "tcp://10.0.0.1:26379, 10.0.0.2:26380,sentinel3" -> ["10.0.0.1:26379", ...];
     * a missing port is 26379; IPv6 needs brackets ("[::1]:26379").
     *
     * @return list<string>
     */
    public static function parseServers(string $servers): array
    {
        return self::parseServerList($servers)[0];
    }

    /**
     * parseServers() and the TLS scheme the list names ("tls://h:26379,
     * tls://h2:26379" -> "tls"; null for none or tcp://). Every sentinel of
     * one list speaks the same: a list mixing TLS and plaintext is refused.
     *
     * @return array{0: list<string>, 1: ?string}
     */
    public static function parseServerList(string $servers): array
    {
        // The common form ("host:port,host:port", no scheme, no spaces) in
        // one match: this runs on every request of a PHP-FPM worker.
        if (preg_match('/^[A-Za-z0-9._-]+:\d+(?:,[A-Za-z0-9._-]+:\d+)*$/D', $servers)) {
            return [explode(',', $servers), null];
        }
        $out = [];
        $schemes = [];
        foreach (preg_split('/[\s,]+/', trim($servers), -1, PREG_SPLIT_NO_EMPTY) as $server) {
            $scheme = null;
            if (preg_match('#^([A-Za-z][A-Za-z0-9.+-]*)://(.*)$#D', $server, $m)) {
                if (strcasecmp($m[1], 'tcp') !== 0 && !preg_match(self::TLS_SCHEME, $m[1])) {
                    throw new \InvalidArgumentException("bad sentinel address '$server': scheme tcp://, tls://, ssl://, tlsv1.2:// or tlsv1.3://"
                        . " (the library speaks nothing below TLS 1.2)");
                }
                $scheme = strcasecmp($m[1], 'tcp') === 0 ? null : strtolower($m[1]);
                $server = $m[2];
            }
            $schemes[$scheme ?? ''] = true;
            $server = rtrim($server, '/');
            if (preg_match('/^\[[0-9a-fA-F:.]+\]:\d+$/', $server) || preg_match('/^[^:\[\]]+:\d+$/', $server)) {
                $out[] = $server;
            } elseif (preg_match('/^[^:\[\]]+$/', $server)) {
                $out[] = $server . ':' . self::DEFAULT_SENTINEL_PORT;
            } elseif (preg_match('/^\[[0-9a-fA-F:.]+\]$/', $server)) {
                $out[] = $server . ':' . self::DEFAULT_SENTINEL_PORT;
            } else {
                throw new \InvalidArgumentException("bad sentinel address '$server'");
            }
        }
        if (count($schemes) > 1) {
            throw new \InvalidArgumentException("sentinel list '$servers' mixes TLS and plaintext schemes");
        }
        $scheme = array_key_first($schemes);
        return [$out, $scheme === '' || $scheme === null ? null : (string)$scheme];
    }

    /**
     * The data nodes' scheme and the extension's TLS options for the
     * sentinels: TLS is on with a TLS scheme on the sentinel list, else as
     * $sentinel['tls'] says, else as the INI setting sentinel.tls says. The
     * data TLS context options the extension also has fill the sentinel
     * options $sentinel does not set.
     *
     * @param array<string, mixed>|null $tlsOptions PHP ssl context options
     * @param array<string, mixed> $sentinel the extension's option names
     * @return array{0: ?string, 1: array<string, mixed>}
     */
    private static function tls(?string $scheme, ?array $tlsOptions, array $sentinel): array
    {
        if ($scheme !== null) {
            $sentinel['tls'] = true;
        }
        $on = array_key_exists('tls', $sentinel) ? self::flag($sentinel['tls'])
            : self::flag(ini_get('sentinel.tls') ?: '0');
        if (array_key_exists('tls', $sentinel)) {
            $sentinel['tls'] = $on;
        }
        if (array_key_exists('tls_verify', $sentinel)) {
            $sentinel['tls_verify'] = self::flag($sentinel['tls_verify']);
        }
        if (!$on) {
            return [null, $sentinel];
        }
        foreach (self::CONTEXT_TO_SENTINEL as $context => $name) {
            if (isset($tlsOptions[$context]) && !array_key_exists($name, $sentinel)) {
                $sentinel[$name] = $context === 'verify_peer' ? self::flag($tlsOptions[$context])
                    : (string)$tlsOptions[$context];
            }
        }
        if (!array_key_exists('tls_min_version', $sentinel)) {
            // tlsv1.3:// is TLS 1.3 only for Credis / phpredis: the same
            // for the sentinels, whatever the context options say.
            $min = $scheme === 'tlsv1.3' ? '1.3' : self::minVersion($tlsOptions ?? []);
            if ($min !== null) {
                $sentinel['tls_min_version'] = $min;
            }
        }
        return [$scheme ?? 'tls', $sentinel];
    }

    /**
     * The extension's tls_min_version ("1.2" or "1.3") for PHP ssl context
     * options: min_proto_version (a STREAM_CRYPTO_PROTO_* value) first, else
     * crypto_method (STREAM_CRYPTO_METHOD_* bits): "1.3" when it allows
     * nothing older. A lower minimum is "1.2", the lowest the library
     * speaks. null when neither is set.
     *
     * @param array<string, mixed> $tlsOptions
     */
    private static function minVersion(array $tlsOptions): ?string
    {
        foreach (['min_proto_version', 'crypto_method'] as $key) {
            if (isset($tlsOptions[$key]) && !is_int($tlsOptions[$key])) {
                throw new \InvalidArgumentException("TLS option '$key' must be an int (STREAM_CRYPTO_* constants)");
            }
        }
        if (isset($tlsOptions['min_proto_version'])) {
            return $tlsOptions['min_proto_version'] >= STREAM_CRYPTO_PROTO_TLSv1_3 ? '1.3' : '1.2';
        }
        if (isset($tlsOptions['crypto_method'])) {
            $older = STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT | STREAM_CRYPTO_METHOD_TLSv1_1_CLIENT
                | STREAM_CRYPTO_METHOD_TLSv1_0_CLIENT | STREAM_CRYPTO_METHOD_SSLv3_CLIENT
                | STREAM_CRYPTO_METHOD_SSLv2_CLIENT;
            $older &= ~1; // the client bit, shared by all of them
            $m = $tlsOptions['crypto_method'];
            return ($m & STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT & ~1) !== 0 && ($m & $older) === 0
                ? '1.3' : '1.2';
        }
        return null;
    }

    /**
     * Options for Sentinel\resolve(). The sentinel timeouts keep the
     * extension's settings (libsentinel's defaults: 250 ms per connect and
     * per reply, two rounds over the sentinels, so with no sentinel
     * answering a request fails within 1 s) unless the cache's sentinel
     * sub-array sets them, with Cm_Cache's names: 'sentinel' => ['timeout'
     * => connect seconds, 'read_timeout' => reply seconds]. The data node's
     * `timeout` / `read_timeout` (Credis', 2.5 s / 10 s in the documented
     * env.php) are never used for the sentinels, unlike Cm, which inherits
     * them: a frozen sentinel would stall every request for seconds.
     *
     * @return array<string, mixed>
     */
    public function resolveOptions(): array
    {
        $o = ['sentinels' => $this->sentinels];
        if ($this->sentinelTimeout !== null) {
            $o['connect_timeout_ms'] = self::milliseconds($this->sentinelTimeout);
        }
        if (($this->sentinelReadTimeout ?? $this->sentinelTimeout) !== null) {
            $o['command_timeout_ms'] = self::milliseconds($this->sentinelReadTimeout ?? $this->sentinelTimeout);
        }
        if ($this->sentinelPassword !== null) {
            $o['sentinel_password'] = $this->sentinelPassword;
        }
        if ($this->sentinelUsername !== null && $this->sentinelPassword !== null) {
            $o['sentinel_user'] = $this->sentinelUsername;
        }
        foreach ($this->sentinelTls as $k => $v) {
            $o[$k] = $v;
        }
        if ($this->password !== null) {
            // The ROLE check of a new master authenticates like the client
            // (AUTH username password for a Redis 6 ACL user).
            $o['data_password'] = $this->password;
            if ($this->username !== null) {
                $o['data_user'] = $this->username;
            }
        }
        return $o;
    }

    /** Never print the passwords (var_dump, print_r, exception traces of the glue). */
    public function __debugInfo(): array
    {
        $v = get_object_vars($this);
        foreach (['password', 'sentinelPassword'] as $k) {
            if ($v[$k] !== null) {
                $v[$k] = '*****';
            }
        }
        if (isset($v['tlsOptions']['passphrase'])) {
            $v['tlsOptions']['passphrase'] = '*****';
        }
        return $v;
    }

    private static function flag(mixed $v): bool
    {
        if (is_string($v)) {
            return !in_array(strtolower(trim($v)), ['', '0', 'false', 'no', 'off'], true);
        }
        return (bool)$v;
    }

    /** Seconds as Cm writes them ("0.5", 2); absent, empty or <= 0: not set. */
    private static function optionalSeconds(mixed $v): ?float
    {
        return (is_numeric($v) && (float)$v > 0) ? (float)$v : null;
    }

    /** Seconds to whole milliseconds, 1..86400000 (the extension's range). */
    private static function milliseconds(float $seconds): int
    {
        return (int)max(1, min(86400000, round($seconds * 1000)));
    }

    /**
     * A sentinel's address as Credis takes it ("tls://host:port" with TLS),
     * for the bindings' own sentinel queries (load_from_slaves).
     */
    public function sentinelHost(string $server): string
    {
        return $this->scheme === null ? $server : $this->scheme . '://' . $server;
    }

    /**
     * The sentinels' TLS settings as PHP ssl context options (Credis'
     * tlsOptions): the extension's options of resolveOptions(), else its
     * INI settings; null without TLS.
     *
     * @return array<string, mixed>|null
     */
    public function sentinelTlsContext(): ?array
    {
        if ($this->scheme === null) {
            return null;
        }
        $context = [];
        foreach (self::CONTEXT_TO_SENTINEL as $name => $option) {
            $v = $this->sentinelTls[$option] ?? ini_get('sentinel.' . $option);
            if ($v === false || $v === '' || $v === null) {
                continue;
            }
            $context[$name] = $option === 'tls_verify' ? self::flag($v) : (string)$v;
        }
        if (isset($context['verify_peer'])) {
            $context['verify_peer_name'] = $context['verify_peer'];
        }
        if (($this->sentinelTls['tls_min_version'] ?? ini_get('sentinel.tls_min_version')) === '1.3') {
            $context['min_proto_version'] = STREAM_CRYPTO_PROTO_TLSv1_3;
        }
        return $context;
    }

    /** @return array<string, mixed>|null */
    private static function optionalArray(mixed $v, string $name): ?array
    {
        if ($v === null || $v === '' || $v === []) {
            return null;
        }
        if (!is_array($v)) {
            throw new \InvalidArgumentException("'$name' must be an array of PHP ssl context options");
        }
        return $v;
    }

    private static function optionalString(mixed $v): ?string
    {
        return ($v === null || $v === '' || $v === false) ? null : (string)$v;
    }
}
