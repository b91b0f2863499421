<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Session;

use Cm\RedisSession\Handler\ConfigInterface;
use Cm\RedisSession\Handler\LoggerInterface;
use LibSentinel\Magento\MasterLocator;

/**
 * Cm\RedisSession\Handler (the handler behind Magento's 'session' => ['save'
 * => 'redis']) that finds the master through the sentinel extension and
 * survives a failover the way LibSentinel\Magento\Cache\SentinelBackend does.
 *
 * It takes Magento's session/redis config as is: when it names sentinels
 * (sentinel_servers, sentinel_master, sentinel_verify_master,
 * sentinel_connect_retries) the config is wrapped in SentinelConfig, so the
 * parent connects straight to the resolved master (answered from the worker's
 * memory or the host's shared cache in steady state) instead of asking a
 * sentinel with Credis_Sentinel on every request.
 *
 * read(), write() and destroy() — the SessionHandlerInterface methods that
 * talk to Redis (open() and gc() do not; close() only closes) — run through
 * MasterLocator::retryOnce(): on a connection error or -READONLY
 * (CredisException, RedisException, ConnectionFailedException, as the
 * extension's Sentinel\report_error() classifies them) the answer is
 * forgotten in the worker and host-wide, the master resolved again, the
 * parent's connection rebuilt to it and the operation retried once. Any other
 * error, or a second failure, is the parent's: read() and destroy() throw;
 * write() — which upstream never lets throw — logs it and returns false.
 *
 * Without sentinel settings, or without the extension, it is exactly the
 * parent.
 */
class SentinelHandler extends \Cm\RedisSession\Handler
{
    private ?SentinelConfig $sentinelConfig = null;
    private ?ExceptionTrapLogger $sentinelLogger = null;
    private bool $sentinelReadOnly = false;
    /** @var array{host: string, port: int} */
    private array $sentinelMaster = ['host' => '', 'port' => 0];

    /**
     * @param bool $readOnly as the parent's
     * @param MasterLocator|null $locator for tests; by default built from $config
     * @throws \Cm\RedisSession\ConnectionFailedException
     * @throws \Sentinel\Exception when no master can be resolved
     */
    public function __construct(
        ConfigInterface $config,
        LoggerInterface $logger,
        $readOnly = false,
        ?MasterLocator $locator = null,
    ) {
        $sentinelConfig = $config instanceof SentinelConfig ? $config : new SentinelConfig($config, $locator);
        if (!$sentinelConfig->usesSentinel()) {
            parent::__construct($config, $logger, $readOnly);
            return;
        }
        $this->sentinelConfig = $sentinelConfig;
        $this->sentinelLogger = $logger instanceof ExceptionTrapLogger ? $logger : new ExceptionTrapLogger($logger);
        $this->sentinelReadOnly = (bool)$readOnly;
        $this->connectToSentinelMaster();
    }

    /** The master this handler talks to (for logs and tests); port 0 without sentinels. */
    public function getSentinelMaster(): array
    {
        return $this->sentinelMaster;
    }

    /** Kept so that a reconnect rebuilds the parent with the current flag. */
    public function setReadOnly($readOnly)
    {
        $this->sentinelReadOnly = (bool)$readOnly;
        return parent::setReadOnly($readOnly);
    }

    /**
     * Resolve and (re)build the parent's connection to the master: the
     * parent's constructor, run again on this object, makes a new
     * Credis_Client and connects. A node that refuses us at once (the cached
     * answer just died) is reported and the master resolved once more.
     */
    private function connectToSentinelMaster(): void
    {
        $locator = $this->sentinelConfig->locator();
        for ($attempt = 0; ; $attempt++) {
            $this->sentinelConfig->forgetMaster();
            $this->sentinelMaster = $this->sentinelConfig->master();
            if ($this->_redis !== null) {
                try {
                    $this->_redis->close();
                } catch (\Exception $e) {
                    // the old link is gone already
                }
            }
            try {
                parent::__construct($this->sentinelConfig, $this->sentinelLogger, $this->sentinelReadOnly);
                return;
            } catch (\Exception $e) {
                // ConnectionFailedException('Unable to connect to Redis'), AUTH/SELECT errors...
                if ($attempt >= 1 || !$locator->reportError(
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
        if ($this->sentinelConfig === null) {
            return $operation();
        }
        return $this->sentinelConfig->locator()->retryOnce(
            $operation,
            fn() => $this->connectToSentinelMaster(),
            fn() => $this->sentinelMaster,
        );
    }

    #[\ReturnTypeWillChange]
    public function read($sessionId)
    {
        return $this->withFailover(fn() => parent::read($sessionId));
    }

    #[\ReturnTypeWillChange]
    public function write($sessionId, $sessionData)
    {
        if ($this->sentinelConfig === null) {
            return parent::write($sessionId, $sessionData);
        }
        $trap = $this->sentinelLogger;
        $attempts = 0;
        $swallowed = null;
        try {
            return $this->withFailover(function () use ($sessionId, $sessionData, $trap, &$attempts, &$swallowed) {
                if ($attempts++ > 0) {
                    // The failed attempt marked the session written; let the retry write it.
                    $this->_sessionWritten = false;
                }
                $trap->reset();
                $ok = parent::write($sessionId, $sessionData);
                if ($ok === false && ($e = $trap->last()) !== null) {
                    // The parent caught and logged it; surface it so retryOnce can judge it.
                    throw $swallowed = $e;
                }
                return $ok;
            });
        } catch (\Exception $e) {
            // The parent's contract: write() logs and returns false, never throws.
            if ($e !== $swallowed) {
                $this->sentinelLogger->logException($e);
            }
            $this->_sessionWritten = true;
            return false;
        }
    }

    #[\ReturnTypeWillChange]
    public function destroy($sessionId)
    {
        return $this->withFailover(fn() => parent::destroy($sessionId));
    }
}
