<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Session;

use Cm\RedisSession\ConcurrentConnectionsExceededException;
use Cm\RedisSession\ConnectionFailedException;
use Cm\RedisSession\Handler\ConfigInterface;
use Cm\RedisSession\Handler\LoggerInterface;
use LibSentinel\Magento\MasterLocator;

/**
 * Drop-in for Magento\Framework\Session\SaveHandler\Redis (what Magento's
 * SaveHandlerFactory creates for 'session' => ['save' => 'redis']) that
 * hands every call to a SentinelHandler instead of a Cm\RedisSession\Handler.
 *
 * Magento's class builds its handler with `new \Cm\RedisSession\Handler(...)`
 * in a private getConnection(), so a DI preference for the handler class
 * alone would never be used: select this class with
 *   <preference for="Magento\Framework\Session\SaveHandler\Redis"
 *               type="LibSentinel\Magento\Session\SentinelSaveHandler"/>
 * (bindings/php/README.md). Behaviour otherwise mirrors Magento's class: one
 * handler per process id, ConnectionFailedException becomes Magento's
 * SessionException, ConcurrentConnectionsExceededException shows
 * pub/errors/503.php.
 */
class SentinelSaveHandler implements \SessionHandlerInterface
{
    /** @var array<int, SentinelHandler> */
    private array $connection = [];

    /**
     * @param \Magento\Framework\Filesystem|null $filesystem for pub/errors/503.php (set in di.xml)
     * @param MasterLocator|null $locator for tests
     */
    public function __construct(
        private readonly ConfigInterface $config,
        private readonly LoggerInterface $logger,
        private readonly ?\Magento\Framework\Filesystem $filesystem = null,
        private readonly ?MasterLocator $locator = null,
    ) {
    }

    /** The handler of this process (built on first use). */
    public function getConnection(): SentinelHandler
    {
        $pid = (int)getmypid();
        if (!isset($this->connection[$pid])) {
            try {
                $this->connection[$pid] = new SentinelHandler($this->config, $this->logger, false, $this->locator);
            } catch (ConnectionFailedException $e) {
                if (class_exists(\Magento\Framework\Exception\SessionException::class)) {
                    throw new \Magento\Framework\Exception\SessionException(
                        new \Magento\Framework\Phrase($e->getMessage()));
                }
                throw $e;
            }
        }
        return $this->connection[$pid];
    }

    #[\ReturnTypeWillChange]
    public function open($savePath, $sessionName)
    {
        return $this->getConnection()->open($savePath, $sessionName);
    }

    #[\ReturnTypeWillChange]
    public function read($sessionId)
    {
        try {
            return $this->getConnection()->read($sessionId);
        } catch (ConcurrentConnectionsExceededException $e) {
            if ($this->filesystem === null) {
                throw $e;
            }
            require $this->filesystem->getDirectoryRead('pub')->getAbsolutePath('errors/503.php');
        }
    }

    #[\ReturnTypeWillChange]
    public function write($sessionId, $sessionData)
    {
        return $this->getConnection()->write($sessionId, $sessionData);
    }

    #[\ReturnTypeWillChange]
    public function destroy($sessionId)
    {
        return $this->getConnection()->destroy($sessionId);
    }

    #[\ReturnTypeWillChange]
    public function close()
    {
        return $this->getConnection()->close();
    }

    #[\ReturnTypeWillChange]
    public function gc($maxLifeTime)
    {
        return $this->getConnection()->gc($maxLifeTime);
    }

    public function getFailedLockAttempts()
    {
        return $this->getConnection()->getFailedLockAttempts();
    }
}
