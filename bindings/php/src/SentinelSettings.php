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
    ) {
        if ($sentinels === []) {
            throw new \InvalidArgumentException('no sentinels configured');
        }
        if ($master === '') {
            throw new \InvalidArgumentException('no sentinel master name configured');
        }
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
        return new self(
            self::parseServers((string)($options['server'] ?? '')),
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
    ): self {
        return new self(
            self::parseServers($servers),
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
        // The common form ("host:port,host:port", no scheme, no spaces) in
        // one match: this runs on every request of a PHP-FPM worker.
        if (preg_match('/^[A-Za-z0-9._-]+:\d+(?:,[A-Za-z0-9._-]+:\d+)*$/D', $servers)) {
            return explode(',', $servers);
        }
        $out = [];
        foreach (preg_split('/[\s,]+/', trim($servers), -1, PREG_SPLIT_NO_EMPTY) as $server) {
            $server = preg_replace('#^tcp://#i', '', $server);
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
        return $out;
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

    private static function optionalString(mixed $v): ?string
    {
        return ($v === null || $v === '' || $v === false) ? null : (string)$v;
    }
}
