<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Cache;

use LibSentinel\Magento\MasterLocator;
use LibSentinel\Magento\SentinelSettings;

/**
 * Cm_Cache_Backend_Redis (the parent of Magento\Framework\Cache\Backend\Redis)
 * that finds the master through the sentinel extension instead of asking a
 * sentinel with Credis_Sentinel on every request.
 *
 * It takes the backend_options Magento users already write for sentinel —
 * server as a comma-separated sentinel list, sentinel_master,
 * sentinel_master_verify, password, database, persistent, timeout,
 * read_timeout, connect_retries — resolves the master (answered from the
 * worker's memory or the host's shared cache in steady state), and hands the
 * parent a direct connection to it. On a connection error or -READONLY the
 * answer is forgotten, the master resolved again and the operation retried
 * once. Without sentinel_master, or without the extension, it is exactly the
 * parent.
 */
class SentinelBackend extends \Cm_Cache_Backend_Redis
{
    private ?MasterLocator $sentinelLocator = null;
    /** @var array<string, mixed> */
    private array $directOptions = [];
    /** @var array{host: string, port: int} */
    private array $sentinelMaster = ['host' => '', 'port' => 0];

    /**
     * @param array<string, mixed> $options
     */
    public function __construct($options = array(), ?MasterLocator $locator = null)
    {
        if (!SentinelSettings::cacheOptionsUseSentinel($options)
            || ($locator === null && !function_exists('Sentinel\resolve'))) {
            parent::__construct($options);
            return;
        }
        $this->sentinelLocator = $locator ?? new MasterLocator(SentinelSettings::fromCacheOptions($options));
        $direct = $options;
        // The parent must not go to the sentinels itself.
        unset($direct['sentinel_master'], $direct['sentinel_master_verify'], $direct['sentinel'],
            $direct['load_from_slaves']);
        $this->directOptions = $direct;
        $this->connectToSentinelMaster();
    }

    /** The master this backend talks to (for logs and tests). */
    public function getSentinelMaster(): array
    {
        return $this->sentinelMaster;
    }

    private function connectToSentinelMaster(): void
    {
        for ($attempt = 0; ; $attempt++) {
            $this->sentinelMaster = $this->sentinelLocator->locate();
            try {
                parent::__construct(['server' => $this->sentinelMaster['host'],
                                     'port' => $this->sentinelMaster['port']] + $this->directOptions);
                return;
            } catch (\Exception $e) {
                // AUTH/SELECT on a node that just stopped being the master.
                if ($attempt >= 1 || !$this->sentinelLocator->reportError(
                    $this->sentinelMaster['host'], $this->sentinelMaster['port'], $e)) {
                    throw $e;
                }
            }
        }
    }

    /**
     * @template T
     * @param callable(): T $operation
     * @return T
     */
    private function withFailover(callable $operation): mixed
    {
        if ($this->sentinelLocator === null) {
            return $operation();
        }
        return $this->sentinelLocator->retryOnce(
            $operation,
            fn() => $this->connectToSentinelMaster(),
            fn() => $this->sentinelMaster,
        );
    }

    public function load($id, $doNotTestCacheValidity = false)
    {
        return $this->withFailover(fn() => parent::load($id, $doNotTestCacheValidity));
    }

    public function test($id)
    {
        return $this->withFailover(fn() => parent::test($id));
    }

    public function save($data, $id, $tags = array(), $specificLifetime = false)
    {
        return $this->withFailover(fn() => parent::save($data, $id, $tags, $specificLifetime));
    }

    public function remove($id)
    {
        return $this->withFailover(fn() => parent::remove($id));
    }

    public function clean($mode = 'all', $tags = array())
    {
        return $this->withFailover(fn() => parent::clean($mode, $tags));
    }

    public function getIds()
    {
        return $this->withFailover(fn() => parent::getIds());
    }

    public function getTags()
    {
        return $this->withFailover(fn() => parent::getTags());
    }

    public function getIdsMatchingTags($tags = array())
    {
        return $this->withFailover(fn() => parent::getIdsMatchingTags($tags));
    }

    public function getIdsNotMatchingTags($tags = array())
    {
        return $this->withFailover(fn() => parent::getIdsNotMatchingTags($tags));
    }

    public function getIdsMatchingAnyTags($tags = array())
    {
        return $this->withFailover(fn() => parent::getIdsMatchingAnyTags($tags));
    }

    public function getFillingPercentage()
    {
        return $this->withFailover(fn() => parent::getFillingPercentage());
    }

    public function getMetadatas($id)
    {
        return $this->withFailover(fn() => parent::getMetadatas($id));
    }

    public function touch($id, $extraLifetime)
    {
        return $this->withFailover(fn() => parent::touch($id, $extraLifetime));
    }
}
