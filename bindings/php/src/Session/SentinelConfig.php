<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Session;

use Cm\RedisSession\Handler\ConfigInterface;
use LibSentinel\Magento\MasterLocator;
use LibSentinel\Magento\SentinelSettings;

/**
 * A Cm\RedisSession\Handler\ConfigInterface decorator for Magento sessions.
 *
 * When the wrapped config (Magento's session/redis keys) names sentinels
 * (sentinel_servers, sentinel_master, sentinel_verify_master,
 * sentinel_connect_retries), getHost()/getPort() return the master resolved
 * through the sentinel extension and getSentinelServers() returns '', so
 * Cm\RedisSession\Handler connects straight to the master instead of asking
 * a sentinel on every request. Everything else is passed through.
 *
 * Failover: with sentinel.watch on, the worker learns of the failover from
 * the sentinels; a handler error can also be reported with reportError().
 * SentinelHandler (the Cm\RedisSession\Handler subclass) wraps Magento's
 * config in this decorator itself and retries a session operation once on a
 * connection error or -READONLY.
 */
class SentinelConfig implements ConfigInterface
{
    private ?MasterLocator $locator = null;
    /** @var array{host: string, port: int}|null */
    private ?array $master = null;

    public function __construct(private readonly ConfigInterface $inner, ?MasterLocator $locator = null)
    {
        $servers = (string)$inner->getSentinelServers();
        if ($servers !== '' && ((string)$inner->getSentinelMaster()) !== ''
            && ($locator !== null || function_exists('Sentinel\resolve'))) {
            $this->locator = $locator ?? new MasterLocator(SentinelSettings::fromSessionValues(
                $servers,
                (string)$inner->getSentinelMaster(),
                $inner->getSentinelVerifyMaster(),
                $inner->getSentinelConnectRetries(),
                $inner->getPassword() === null ? null : (string)$inner->getPassword(),
                (int)$inner->getDatabase(),
                $inner->getTimeout() === null ? null : (float)$inner->getTimeout(),
            ));
        }
    }

    /** Whether the wrapped config names sentinels (and the extension can resolve). */
    public function usesSentinel(): bool
    {
        return $this->locator !== null;
    }

    public function locator(): ?MasterLocator
    {
        return $this->locator;
    }

    /**
     * The master getHost()/getPort() return (resolved on first use), or null
     * without sentinels.
     *
     * @return array{host: string, port: int}|null
     */
    public function master(): ?array
    {
        if ($this->locator === null) {
            return null;
        }
        return $this->master ??= $this->locator->locate();
    }

    /** Drop this object's copy of the answer: the next getHost() resolves again. */
    public function forgetMaster(): void
    {
        $this->master = null;
    }

    /** Report an error from the session connection; true if the master is forgotten. */
    public function reportError(\Throwable $e): bool
    {
        $m = $this->master();
        if ($m === null || !$this->locator->reportError($m['host'], $m['port'], $e)) {
            return false;
        }
        $this->master = null;
        return true;
    }

    public function getHost()
    {
        return $this->master()['host'] ?? $this->inner->getHost();
    }

    public function getPort()
    {
        return $this->master()['port'] ?? $this->inner->getPort();
    }

    public function getSentinelServers()
    {
        return $this->locator !== null ? '' : $this->inner->getSentinelServers();
    }

    public function getSentinelMaster()
    {
        return $this->locator !== null ? '' : $this->inner->getSentinelMaster();
    }

    public function getSentinelVerifyMaster()
    {
        return $this->locator !== null ? '' : $this->inner->getSentinelVerifyMaster();
    }

    public function getSentinelConnectRetries()
    {
        return $this->inner->getSentinelConnectRetries();
    }

    public function getLogLevel() { return $this->inner->getLogLevel(); }
    public function getDatabase() { return $this->inner->getDatabase(); }
    public function getPassword() { return $this->inner->getPassword(); }
    public function getTimeout() { return $this->inner->getTimeout(); }
    public function getPersistentIdentifier() { return $this->inner->getPersistentIdentifier(); }
    public function getCompressionThreshold() { return $this->inner->getCompressionThreshold(); }
    public function getCompressionLibrary() { return $this->inner->getCompressionLibrary(); }
    public function getMaxConcurrency() { return $this->inner->getMaxConcurrency(); }
    public function getLifetime() { return $this->inner->getLifetime(); }
    public function getMaxLifetime() { return $this->inner->getMaxLifetime(); }
    public function getMinLifetime() { return $this->inner->getMinLifetime(); }
    public function getDisableLocking() { return $this->inner->getDisableLocking(); }
    public function getBotDisableLocking() { return $this->inner->getBotDisableLocking(); }
    public function getBotLifetime() { return $this->inner->getBotLifetime(); }
    public function getBotFirstLifetime() { return $this->inner->getBotFirstLifetime(); }
    public function getFirstLifetime() { return $this->inner->getFirstLifetime(); }
    public function getBreakAfter() { return $this->inner->getBreakAfter(); }
    public function getFailAfter() { return $this->inner->getFailAfter(); }

    /** Anything newer interfaces add (username, TLS options...) is passed through. */
    public function __call(string $name, array $args): mixed
    {
        return $this->inner->$name(...$args);
    }
}
