<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Cache;

use LibSentinel\Magento\MasterLocator;
use LibSentinel\Magento\SentinelSettings;

/**
 * The sentinel logic of the cache backends, written once for
 * SentinelBackend (Magento 2: extends Magento\Framework\Cache\Backend\Redis)
 * and CmSentinelBackend (OpenMage / plain Cm_Cache: extends
 * Cm_Cache_Backend_Redis). The class using it extends one of those and says
 * with sentinelParentSwallowsErrors() whether its parent turns Redis errors
 * of save()/remove() into false (Magento's does).
 *
 * It takes the backend_options users already write for Cm's sentinel mode —
 * server as a comma-separated sentinel list, sentinel_master,
 * sentinel_master_verify, password, username (Redis 6 ACL user), database,
 * persistent, timeout, read_timeout, connect_retries, 'sentinel' =>
 * ['password' => ..., 'username' => ...], load_from_slaves — resolves the
 * master through the extension (from the worker's memory or the host's
 * shared cache in steady state), and gives the parent a direct connection to
 * it; every other option (preload_keys, compress_data...) is the parent's.
 *
 * Each operation runs through MasterLocator::fenced(): reconnect first when
 * the failover epoch moved since this object connected (long-lived objects:
 * cron, indexers, consumers); on a connection error or -READONLY forget the
 * master, reconnect and retry once; re-apply a save/remove/clean/touch whose
 * acknowledgement came after a failover began. When the parent swallowed the
 * error (false from Magento's save()/remove()), a ROLE probe of the
 * connection tells a lost or demoted master from a plain false, and the
 * former is retried the same way.
 *
 * A reconnect never re-runs the parent's constructor on the live object: it
 * replaces the Credis client ($_redis, and $_slave) the way the parent builds
 * it (new Credis_Client + _applyClientOptions()).
 *
 * TLS: the master's (and a replica's) address handed to Credis keeps the
 * sentinel list's TLS scheme ("tls://10.0.0.3", see SentinelSettings), and
 * 'tls_options' (PHP ssl context options: cafile, local_cert, local_pk,
 * peer_name...; Credis' $tlsOptions, which Cm_Cache itself never passes)
 * reach every TLS client the parent or this trait builds, through
 * _applyClientOptions(). That holds without sentinel_master too
 * ('server' => 'tls://host').
 *
 * Without sentinel_master, or without the extension, it is the parent,
 * unchanged.
 */
trait SentinelBackendTrait
{
    /** The locator: injected, or built from $sentinelOptions when first needed (sentinelLocator()). */
    private ?MasterLocator $sentinelLocator = null;
    /** @var array<string, mixed>|null the backend_options, for sentinelLocator() */
    private ?array $sentinelOptions = null;
    /** Whether the master comes from the sentinels (else this is the parent, unchanged). */
    private bool $sentinelOn = false;
    private ?ReplicaPicker $sentinelReplicas = null;
    /** @var array{host: string, port: int, epoch: int|null} */
    private array $sentinelMaster = ['host' => '', 'port' => 0, 'epoch' => null];
    /** @var array{host: string, port: int}|null */
    private ?array $sentinelReplica = null;
    /** @var array<string, mixed>|null 'tls_options': Credis' TLS context options */
    private ?array $sentinelTlsOptions = null;
    /** Whether the sentinel extension is loaded, asked once per request. */
    private static ?bool $sentinelExtLoaded = null;
    /** Whether it has Sentinel\cache_options_remembered(), asked once per request. */
    private static ?bool $sentinelExtCacheOptions = null;

    /** Whether the parent returns false from save()/remove() on a Redis error. */
    abstract protected function sentinelParentSwallowsErrors(): bool;

    /**
     * @param array<string, mixed> $options
     * @param MasterLocator|null $locator for tests
     * @param ReplicaPicker|null $replicas for tests (load_from_slaves)
     */
    public function __construct($options = array(), ?MasterLocator $locator = null, ?ReplicaPicker $replicas = null)
    {
        if (isset($options['tls_options']) && is_array($options['tls_options']) && $options['tls_options'] !== []) {
            $this->sentinelTlsOptions = $options['tls_options'];
        }
        // A PHP-FPM worker's steady state (settings remembered, no
        // load_from_slaves, no TLS data nodes): one extension call answers
        // the parent's options with the master's address in them.
        $attempt = 0;
        if ($locator === null && (self::$sentinelExtCacheOptions ??= function_exists('Sentinel\cache_options_remembered'))
            && ($direct = \Sentinel\cache_options_remembered($options, $master)) !== false) {
            $this->sentinelOn = true;
            $this->sentinelOptions = $options;
            $this->sentinelMaster = $master;
            try {
                parent::__construct($direct);
                return;
            } catch (\Throwable $e) {
                // A node that refuses at once: judged, and run again on the next answer, as below.
                if (!$this->sentinelLocator()->reportError($master['host'], $master['port'], $e)) {
                    throw $e;
                }
                $attempt = 1;
            }
        }
        if (!SentinelSettings::cacheOptionsUseSentinel($options)
            || ($locator === null && !(self::$sentinelExtLoaded ??= function_exists('Sentinel\resolve')))) {
            parent::__construct($options);
            return;
        }
        // A request that builds a backend and loads makes one extension call
        // (MasterLocator::locateForCacheOptions()); the locator is built when
        // something needs it: load_from_slaves, an error, a later operation's
        // fence.
        $this->sentinelOn = true;
        $this->sentinelLocator = $locator;
        $this->sentinelOptions = $options;
        // The parent must not go to the sentinels itself, nor pick replicas
        // (server and port are set to the master's below, on this one copy).
        $direct = $options;
        unset($direct['sentinel_master'], $direct['sentinel_master_verify'], $direct['sentinel'],
            $direct['load_from_slaves'], $direct['slave_select_callable'], $direct['load_from_slave']);
        if (!empty($options['load_from_slaves'])) {
            $this->sentinelReplicas = $replicas ?? new ReplicaPicker(
                $this->sentinelLocator()->settings(),
                (int)$options['load_from_slaves'] === 2,
            );
        }
        // The object is not live until the parent's constructor returned: on
        // a node that refuses at once, run it again on the next answer.
        for (; ; $attempt++) {
            $this->sentinelMaster = $locator === null ? MasterLocator::locateForCacheOptions($options)
                : $locator->locate();
            $direct['server'] = $this->sentinelDataHost($this->sentinelMaster);
            $direct['port'] = $this->sentinelMaster['port'];
            try {
                parent::__construct($direct);
                break;
            } catch (\Throwable $e) {
                if ($attempt >= 1 || !$this->sentinelLocator()->reportError(
                    $this->sentinelMaster['host'], $this->sentinelMaster['port'], $e)) {
                    throw $e;
                }
            }
        }
        if ($this->sentinelReplicas !== null) {
            $this->sentinelAttachReplica();
        }
    }

    private function sentinelLocator(): MasterLocator
    {
        return $this->sentinelLocator ??= MasterLocator::forCacheOptions($this->sentinelOptions);
    }

    /** The master this backend talks to (for logs and tests). */
    public function getSentinelMaster(): array
    {
        return $this->sentinelMaster;
    }

    /** The replica loads go to (load_from_slaves), or null for the master. */
    public function getSentinelReplica(): ?array
    {
        return $this->sentinelReplica;
    }

    /** The address Credis takes for $node: "tls://host" when the data nodes speak TLS. */
    private function sentinelDataHost(array $node): string
    {
        // A master resolve_remembered() answered says whether it is TLS: no locator needed.
        return ($node['tls'] ?? null) === false ? $node['host'] : $this->sentinelLocator()->dataHost($node);
    }

    /**
     * The parent's, after handing a TLS client the 'tls_options' (Credis
     * takes them before it connects; Cm_Cache never passes any).
     */
    protected function _applyClientOptions(\Credis_Client $client, $forceSelect = false, $clientOptions = null)
    {
        // (Credis before TLS support has no isTls(): nothing to hand over there.)
        if ($this->sentinelTlsOptions !== null && method_exists($client, 'isTls') && $client->isTls()
            && !$client->isConnected()) {
            $client->setTlsOptions($this->sentinelTlsOptions);
        }
        parent::_applyClientOptions($client, $forceSelect, $clientOptions);
    }

    /** New Credis clients to the current master (and a replica); the parent's constructor is not re-run. */
    private function sentinelReconnect(): void
    {
        for ($attempt = 0; ; $attempt++) {
            $master = $this->sentinelLocator()->locate();
            $client = new \Credis_Client($this->sentinelDataHost($master), $master['port'],
                $this->_clientOptions->timeout, $this->_clientOptions->persistent);
            try {
                $this->_applyClientOptions($client);
                break;
            } catch (\Throwable $e) {
                if ($attempt >= 1 || !$this->sentinelLocator()->reportError($master['host'], $master['port'], $e)) {
                    throw $e;
                }
            }
        }
        $old = $this->_redis;
        $this->_redis = $client;
        $this->sentinelMaster = $master;
        self::sentinelClose($old);
        $this->sentinelDropReplica(false);
        $this->sentinelAttachReplica();
    }

    /** load_from_slaves: a replica of the current master, checked with ROLE, or none. */
    private function sentinelAttachReplica(): void
    {
        if ($this->sentinelReplicas === null) {
            return;
        }
        $this->sentinelReplica = null;
        $replica = $this->sentinelReplicas->pick($this->sentinelMaster);
        if ($replica === null) {
            return;
        }
        try {
            $slave = new \Credis_Client($this->sentinelDataHost($replica), $replica['port'],
                $this->_clientOptions->timeout, $this->_clientOptions->persistent);
            $this->_applyClientOptions($slave, true);
            $this->_slave = $slave;
            $this->sentinelReplica = $replica;
        } catch (\Throwable $e) {
            // As Cm: a replica that fails at once is not used.
            $this->sentinelReplicas->forget($replica);
        }
    }

    private function sentinelDropReplica(bool $failed): void
    {
        if ($failed && $this->sentinelReplica !== null) {
            $this->sentinelReplicas->forget($this->sentinelReplica);
        }
        if ($this->_slave !== null) {
            self::sentinelClose($this->_slave);
        }
        $this->_slave = null;
        $this->sentinelReplica = null;
    }

    private static function sentinelClose(?object $client): void
    {
        try {
            $client?->close();
        } catch (\Throwable $e) {
            // the old link is gone already
        }
    }

    /**
     * @template T
     * @param callable(): T $operation
     * @return T
     */
    private function sentinelRun(callable $operation, bool $idempotentWrite): mixed
    {
        if (!$this->sentinelOn) {
            return $operation();
        }
        $m = $this->sentinelMaster;
        // A master from Sentinel\cache_options_remembered() (steady state):
        // the fence is its failover epoch read by the remembered id, one
        // extension call with no key to hash and no locator, and nothing
        // before an operation within FRESH_SECONDS of locating it. An error,
        // a write whose failover epoch moved while it ran, or an id the
        // worker forgot go the locator's way below (fenced(), retryOnce()).
        if (isset($m['id'])
            && (microtime(true) - $m['at'] < MasterLocator::FRESH_SECONDS
                || \Sentinel\epoch_remembered($m['id']) === $m['epoch'])) {
            try {
                $result = $operation();
            } catch (\Throwable $e) {
                if (!$this->sentinelLocator()->reportError($m['host'], $m['port'], $e)) {
                    throw $e;
                }
                $this->sentinelReconnect();
                return $this->sentinelFenced($operation, $idempotentWrite);
            }
            if (!$idempotentWrite || \Sentinel\epoch_remembered($m['id']) === $m['epoch']) {
                return $result;
            }
            // Acknowledged across a failover: re-applied on the new master.
            $this->sentinelReconnect();
        }
        return $this->sentinelFenced($operation, $idempotentWrite);
    }

    /** MasterLocator::fenced() with this backend's reconnect and master. */
    private function sentinelFenced(callable $operation, bool $idempotentWrite): mixed
    {
        return $this->sentinelLocator()->fenced(
            $operation,
            fn() => $this->sentinelReconnect(),
            fn() => $this->sentinelMaster,
            $idempotentWrite,
        );
    }

    /**
     * A write through a parent that may swallow errors: a false answer is
     * checked with ROLE on the connection; a lost link or a node that is not
     * the master anymore is thrown so the retry judges it.
     */
    private function sentinelWrite(callable $operation): mixed
    {
        if (!$this->sentinelOn) {
            return $operation();
        }
        $probe = $this->sentinelParentSwallowsErrors();
        $run = function () use ($operation, $probe) {
            $result = $operation();
            if ($result === false && $probe) {
                $this->sentinelProbeMaster();
            }
            return $result;
        };
        try {
            return $this->sentinelRun($run, true);
        } catch (\Throwable $e) {
            if ($probe) {
                return false; // the parent's contract: false, never an exception
            }
            throw $e;
        }
    }

    /** @throws \Throwable when the connection is not to a usable master */
    private function sentinelProbeMaster(): void
    {
        $role = $this->_redis->role();
        if (!is_array($role) || ($role[0] ?? '') !== 'master') {
            throw new \CredisException("READONLY You can't write against a read only replica."
                . ' (ROLE: ' . (is_array($role) ? (string)($role[0] ?? '?') : '?') . ')');
        }
    }

    public function load($id, $doNotTestCacheValidity = false)
    {
        if ($this->_slave !== null && $this->sentinelOn
            && $this->sentinelLocator()->isCurrent($this->sentinelMaster)) {
            try {
                return parent::load($id, $doNotTestCacheValidity);
            } catch (\Throwable $e) {
                // The replica failed: read from the master from now on.
                $this->sentinelDropReplica(true);
            }
        }
        if ($this->sentinelOn && ($this->sentinelLocator === null
                ? microtime(true) - $this->sentinelMaster['at'] < MasterLocator::FRESH_SECONDS
                : $this->sentinelLocator->isFresh($this->sentinelMaster))) {
            // A backend built for this request, its master located
            // microseconds ago: fenced()'s work without its closures (the
            // load of every page view takes this path). A read needs no
            // check after it; an error that means "the master moved" is
            // retried once on the new one, as retryOnce() does.
            try {
                return parent::load($id, $doNotTestCacheValidity);
            } catch (\Throwable $e) {
                if (!$this->sentinelLocator()->reportError($this->sentinelMaster['host'],
                    $this->sentinelMaster['port'], $e)) {
                    throw $e;
                }
                $this->sentinelReconnect();
                return parent::load($id, $doNotTestCacheValidity);
            }
        }
        return $this->sentinelRun(fn() => parent::load($id, $doNotTestCacheValidity), false);
    }

    public function test($id)
    {
        return $this->sentinelRun(fn() => parent::test($id), false);
    }

    public function save($data, $id, $tags = array(), $specificLifetime = false)
    {
        return $this->sentinelWrite(fn() => parent::save($data, $id, $tags, $specificLifetime));
    }

    public function remove($id)
    {
        return $this->sentinelWrite(fn() => parent::remove($id));
    }

    public function clean($mode = 'all', $tags = array())
    {
        return $this->sentinelRun(fn() => parent::clean($mode, $tags), true);
    }

    public function touch($id, $extraLifetime)
    {
        return $this->sentinelRun(fn() => parent::touch($id, $extraLifetime), true);
    }

    public function getIds()
    {
        return $this->sentinelRun(fn() => parent::getIds(), false);
    }

    public function getTags()
    {
        return $this->sentinelRun(fn() => parent::getTags(), false);
    }

    public function getIdsMatchingTags($tags = array())
    {
        return $this->sentinelRun(fn() => parent::getIdsMatchingTags($tags), false);
    }

    public function getIdsNotMatchingTags($tags = array())
    {
        return $this->sentinelRun(fn() => parent::getIdsNotMatchingTags($tags), false);
    }

    public function getIdsMatchingAnyTags($tags = array())
    {
        return $this->sentinelRun(fn() => parent::getIdsMatchingAnyTags($tags), false);
    }

    public function getFillingPercentage()
    {
        return $this->sentinelRun(fn() => parent::getFillingPercentage(), false);
    }

    public function getMetadatas($id)
    {
        return $this->sentinelRun(fn() => parent::getMetadatas($id), false);
    }
}
