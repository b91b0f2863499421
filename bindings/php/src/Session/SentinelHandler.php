<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Session;

use Cm\RedisSession\Handler\ConfigInterface;
use Cm\RedisSession\Handler\LoggerInterface;
use LibSentinel\Magento\MasterLocator;

/**
 * The session handler behind Magento's 'session' => ['save' => 'redis']
 * (what SentinelSaveHandler creates): Cm\RedisSession\Handler connected to
 * the master found through the sentinel extension, surviving a failover.
 *
 * It takes Magento's session/redis config as is: when it names sentinels
 * (sentinel_servers, sentinel_master, sentinel_verify_master,
 * sentinel_connect_retries) the config is wrapped in SentinelConfig, so
 * upstream's handler connects straight to the resolved master (answered from
 * the worker's memory or the host's shared cache in steady state) instead of
 * asking a sentinel with Credis_Sentinel on every request.
 *
 * Upstream's Handler has readonly properties, so its constructor never runs
 * twice on one object: every (re)connection is a new SessionConnection (a
 * Cm\RedisSession\Handler), and this class delegates to the current one.
 *
 * read(), write() and destroy() run through MasterLocator::fenced(): before
 * each, the failover epoch tells whether the connected master is still
 * current (reconnect if not); an error meaning the master moved (lost
 * connection, READONLY — any \Throwable, as the extension's
 * Sentinel\report_error() classifies it) forgets the master in the worker
 * and host-wide, reconnects and retries once; a write or destroy whose
 * acknowledgement came after a failover began is re-applied on the new
 * master (both are idempotent). Any other error, or a second failure, is
 * upstream's: read() and destroy() throw; write(), which upstream never
 * lets throw, logs it and returns false. open(), gc() and close() do not
 * talk to Redis.
 *
 * Without sentinel settings, or without the extension, it is upstream's
 * handler, unchanged.
 */
class SentinelHandler implements \SessionHandlerInterface
{
    private \Cm\RedisSession\Handler $connection;
    private ?SentinelConfig $sentinelConfig = null;
    private ExceptionTrapLogger $trap;
    private bool $readOnly;
    /** @var array{host: string, port: int, epoch: int|null} */
    private array $sentinelMaster = ['host' => '', 'port' => 0, 'epoch' => null];

    /**
     * @param bool $readOnly as upstream's
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
        $this->readOnly = (bool)$readOnly;
        $sentinelConfig = $config instanceof SentinelConfig ? $config : new SentinelConfig($config, $locator);
        if (!$sentinelConfig->usesSentinel()) {
            $this->trap = $logger instanceof ExceptionTrapLogger ? $logger : new ExceptionTrapLogger($logger);
            $this->connection = new \Cm\RedisSession\Handler($config, $logger, $readOnly);
            return;
        }
        $this->sentinelConfig = $sentinelConfig;
        $this->trap = $logger instanceof ExceptionTrapLogger ? $logger : new ExceptionTrapLogger($logger);
        $this->connectToSentinelMaster();
    }

    /** The master this handler talks to (for logs and tests); port 0 without sentinels. */
    public function getSentinelMaster(): array
    {
        return $this->sentinelMaster;
    }

    /** Upstream's handler in use now (a new one after each reconnect). */
    public function getConnection(): \Cm\RedisSession\Handler
    {
        return $this->connection;
    }

    public function setReadOnly($readOnly)
    {
        $this->readOnly = (bool)$readOnly;
        $this->connection->setReadOnly($readOnly);
        return $this;
    }

    /**
     * Resolve and connect a new upstream handler to the master. A node that
     * refuses us at once (the cached answer just died) is reported and the
     * master resolved once more.
     */
    private function connectToSentinelMaster(): void
    {
        $locator = $this->sentinelConfig->locator();
        $previous = $this->connection ?? null;
        for ($attempt = 0; ; $attempt++) {
            $this->sentinelConfig->forgetMaster();
            $this->sentinelMaster = $this->sentinelConfig->master();
            try {
                $next = new SessionConnection($this->sentinelConfig, $this->trap, $this->readOnly);
                break;
            } catch (\Throwable $e) {
                // ConnectionFailedException('Unable to connect to Redis'), AUTH errors...
                if ($attempt >= 1 || !$locator->reportError(
                    $this->sentinelMaster['host'], $this->sentinelMaster['port'], $e)) {
                    throw $e;
                }
            }
        }
        if ($previous !== null) {
            $next->continueRequestOf($previous);
            try {
                $previous->close();
            } catch (\Throwable $e) {
                // the old link is gone already
            }
        }
        $this->connection = $next;
    }

    /**
     * @template T
     * @param callable(): T $operation
     * @return T
     */
    private function withFailover(callable $operation, bool $idempotentWrite): mixed
    {
        if ($this->sentinelConfig === null) {
            return $operation();
        }
        return $this->sentinelConfig->locator()->fenced(
            $operation,
            fn() => $this->connectToSentinelMaster(),
            fn() => $this->sentinelMaster,
            $idempotentWrite,
        );
    }

    #[\ReturnTypeWillChange]
    public function open($savePath, $sessionName)
    {
        return $this->connection->open($savePath, $sessionName);
    }

    #[\ReturnTypeWillChange]
    public function read($sessionId)
    {
        return $this->withFailover(fn() => $this->connection->read($sessionId), false);
    }

    #[\ReturnTypeWillChange]
    public function write($sessionId, $sessionData)
    {
        if ($this->sentinelConfig === null) {
            return $this->connection->write($sessionId, $sessionData);
        }
        $swallowed = null;
        try {
            return $this->withFailover(function () use ($sessionId, $sessionData, &$swallowed) {
                $this->trap->reset();
                $ok = $this->connection->write($sessionId, $sessionData);
                if ($ok === false && ($e = $this->trap->last()) !== null) {
                    // Upstream caught and logged it; surface it so the retry can judge it.
                    throw $swallowed = $e;
                }
                return $ok;
            }, true);
        } catch (\Throwable $e) {
            // Upstream's contract: write() logs and returns false, never throws.
            if ($e !== $swallowed && $e instanceof \Exception) {
                $this->trap->logException($e);
            }
            return false;
        }
    }

    #[\ReturnTypeWillChange]
    public function destroy($sessionId)
    {
        return $this->withFailover(fn() => $this->connection->destroy($sessionId), true);
    }

    #[\ReturnTypeWillChange]
    public function close()
    {
        return $this->connection->close();
    }

    #[\ReturnTypeWillChange]
    public function gc($maxLifeTime)
    {
        return $this->connection->gc($maxLifeTime);
    }

    public function getFailedLockAttempts()
    {
        return $this->connection->getFailedLockAttempts();
    }
}
