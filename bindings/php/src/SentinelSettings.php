<?php

declare(strict_types=1);

namespace LibSentinel\Magento;

/**
 * The sentinel settings Magento users already write, parsed once:
 * Cm_Cache's backend_options (server = comma-separated sentinels,
 * sentinel_master, sentinel_master_verify, password, username, database,
 * persistent, timeout, read_timeout, connect_retries, and the 'sentinel'
 * sub-array: password, username) or Cm_RedisSession's session/redis keys
 * (sentinel_servers, sentinel_master, sentinel_verify_master,
 * sentinel_connect_retries, timeout; username and the sentinel password from
 * UsernameConfigInterface / ConfigSentinelPasswordInterface).
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

    /** From Cm_Cache_Backend_Redis backend_options. */
    public static function fromCacheOptions(array $options): self
    {
        $sentinelOptions = isset($options['sentinel']) && is_array($options['sentinel']) ? $options['sentinel'] : [];
        return new self(
            self::parseServers((string)($options['server'] ?? '')),
            (string)($options['sentinel_master'] ?? ''),
            self::flag($options['sentinel_master_verify'] ?? true),
            self::optionalString($options['password'] ?? null),
            (int)($options['database'] ?? 0),
            (string)($options['persistent'] ?? ''),
            isset($options['timeout']) ? (float)$options['timeout'] : null,
            isset($options['read_timeout']) ? (float)$options['read_timeout'] : null,
            (int)($options['connect_retries'] ?? 1),
            self::optionalString($sentinelOptions['password'] ?? null),
            self::optionalString($options['username'] ?? null),
            self::optionalString($sentinelOptions['username'] ?? null),
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
     * Options for Sentinel\resolve(). Timeouts: Credis' connect timeout (s)
     * bounds each sentinel connect; retries bound the total deadline.
     *
     * @return array<string, mixed>
     */
    public function resolveOptions(): array
    {
        $o = ['sentinels' => $this->sentinels];
        if ($this->timeout !== null && $this->timeout > 0) {
            $ms = (int)max(1, min(86400000, round($this->timeout * 1000)));
            $o['connect_timeout_ms'] = $ms;
            $o['command_timeout_ms'] = $ms;
            $o['timeout_ms'] = (int)min(86400000, $ms * max(2, 2 * ($this->connectRetries + 1)));
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

    private static function optionalString(mixed $v): ?string
    {
        return ($v === null || $v === '' || $v === false) ? null : (string)$v;
    }
}
