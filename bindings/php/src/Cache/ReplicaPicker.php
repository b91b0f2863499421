<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Cache;

use LibSentinel\Magento\SentinelSettings;

/**
 * load_from_slaves in sentinel mode: the replica loads are sent to.
 *
 * The extension resolves masters only (it has no call listing replicas), so
 * replicas are found the way Cm_Cache_Backend_Redis finds them: Credis_Sentinel
 * ->slaves() (SENTINEL REPLICAS) on the configured sentinels, in order, with
 * the sentinel password and username, skipping replicas flagged s_down,
 * o_down or disconnected or whose master link is down (Cm's
 * createSlaveClients()). One is chosen at random — with load_from_slaves = 2
 * the master is one of the choices, as in Cm — and, unlike Cm, checked with
 * ROLE: it must say "slave", name the current master's port and have its
 * link "connected"; otherwise the next candidate is tried, and with none the
 * master serves the loads.
 *
 * Unlike Cm (a sentinel round trip per request), the answer is kept in the
 * worker's memory for $ttl seconds per master address, so in steady state
 * there is no sentinel or ROLE traffic per request; a failover changes the
 * master address and so the key. A replica that fails is forgotten at once.
 */
final class ReplicaPicker
{
    /** Seconds per sentinel connect and reply unless 'sentinel' => ['timeout'] says (libsentinel's 250 ms). */
    private const SENTINEL_TIMEOUT = 0.25;

    /** @var array<string, array{replica: array{host: string, port: int}|null, at: float}> */
    private static array $chosen = [];

    /** @var callable(SentinelSettings): list<array{host: string, port: int}> */
    private $listReplicas;
    /** @var callable(string, int): mixed */
    private $role;

    /**
     * @param bool $includeMaster load_from_slaves = 2: the master is a candidate too
     * @param callable|null $listReplicas for tests: the replicas the sentinels name
     * @param callable|null $role for tests: ROLE of host:port
     */
    public function __construct(
        private readonly SentinelSettings $settings,
        private readonly bool $includeMaster = false,
        private readonly float $ttl = 10.0,
        ?callable $listReplicas = null,
        ?callable $role = null,
    ) {
        $this->listReplicas = $listReplicas ?? [self::class, 'replicasFromSentinels'];
        $this->role = $role ?? fn(string $h, int $p): mixed => $this->roleOf($h, $p);
    }

    /**
     * @param array{host: string, port: int} $master
     * @return array{host: string, port: int}|null null: read from the master
     */
    public function pick(array $master): ?array
    {
        $key = $this->key($master);
        $now = microtime(true);
        if (isset(self::$chosen[$key]) && $now - self::$chosen[$key]['at'] < $this->ttl) {
            return self::$chosen[$key]['replica'];
        }
        $replica = null;
        try {
            $candidates = ($this->listReplicas)($this->settings);
        } catch (\Throwable $e) {
            $candidates = [];
        }
        shuffle($candidates);
        if ($this->includeMaster && random_int(0, count($candidates)) === 0) {
            $candidates = [];  // the master's turn
        }
        foreach ($candidates as $c) {
            if ($this->isReplicaOf($c, $master)) {
                $replica = ['host' => (string)$c['host'], 'port' => (int)$c['port']];
                break;
            }
        }
        self::$chosen[$key] = ['replica' => $replica, 'at' => $now];
        return $replica;
    }

    /** Forget every choice of this worker (tests, or after a topology change). */
    public static function forgetAll(): void
    {
        self::$chosen = [];
    }

    /** A replica that failed: choose again on next use. */
    public function forget(array $replica): void
    {
        foreach (self::$chosen as $k => $v) {
            if ($v['replica'] !== null && $v['replica']['host'] === $replica['host']
                && $v['replica']['port'] === $replica['port']) {
                unset(self::$chosen[$k]);
            }
        }
    }

    /** @param array{host: string, port: int} $c */
    private function isReplicaOf(array $c, array $master): bool
    {
        try {
            $role = ($this->role)((string)$c['host'], (int)$c['port']);
        } catch (\Throwable $e) {
            return false;
        }
        // ROLE of a replica: ["slave", master_ip, master_port, state, offset]
        return is_array($role) && ($role[0] ?? '') === 'slave'
            && (int)($role[2] ?? 0) === (int)$master['port']
            && ($role[3] ?? '') === 'connected';
    }

    private function roleOf(string $host, int $port): mixed
    {
        $s = $this->settings;
        $c = new \Credis_Client($s->dataHost($host), $port, $s->timeout ?? 2.5, '', 0, null, null, $s->tlsOptions);
        $c->setMaxConnectRetries(0);
        try {
            if ($s->password !== null) {
                $s->username !== null ? $c->auth($s->password, $s->username) : $c->auth($s->password);
            }
            return $c->role();
        } finally {
            $c->close();
        }
    }

    /**
     * SENTINEL REPLICAS through Credis_Sentinel, as Cm does; the first
     * sentinel that answers wins.
     *
     * @return list<array{host: string, port: int}>
     */
    public static function replicasFromSentinels(SentinelSettings $s): array
    {
        $last = null;
        foreach ($s->sentinels as $server) {
            try {
                // A sentinel's timeout, never the data node's (see SentinelSettings::resolveOptions()).
                $client = new \Credis_Client($s->sentinelHost($server), null,
                    $s->sentinelTimeout ?? self::SENTINEL_TIMEOUT, '', 0, null, null, $s->sentinelTlsContext());
                $client->setReadTimeout($s->sentinelReadTimeout ?? $s->sentinelTimeout ?? self::SENTINEL_TIMEOUT);
                $client->forceStandalone();
                $client->setMaxConnectRetries(0);
                if ($s->sentinelPassword !== null) {
                    $s->sentinelUsername !== null ? $client->auth($s->sentinelPassword, $s->sentinelUsername)
                        : $client->auth($s->sentinelPassword);
                }
                $raw = (new \Credis_Sentinel($client))->slaves($s->master);
                $client->close();
                return self::workingReplicas(is_array($raw) ? $raw : []);
            } catch (\Throwable $e) {
                $last = $e;
            }
        }
        throw $last ?? new \RuntimeException('no sentinel configured');
    }

    /**
     * Cm's createSlaveClients() filter, on SENTINEL REPLICAS' flat field lists.
     *
     * @return list<array{host: string, port: int}>
     */
    public static function workingReplicas(array $raw): array
    {
        $out = [];
        foreach ($raw as $fields) {
            $r = [];
            for ($i = 0; $i + 1 < count($fields); $i += 2) {
                $r[$fields[$i]] = $fields[$i + 1];
            }
            if (!isset($r['flags'], $r['ip'], $r['port']) || ($r['master-link-status'] ?? '') === 'err') {
                continue;
            }
            if (!array_intersect(explode(',', $r['flags']), ['s_down', 'o_down', 'disconnected'])) {
                $out[] = ['host' => (string)$r['ip'], 'port' => (int)$r['port']];
            }
        }
        return $out;
    }

    private function key(array $master): string
    {
        return $this->settings->master . '|' . implode(',', $this->settings->sentinels) . '|'
            . $master['host'] . ':' . $master['port'];
    }
}
