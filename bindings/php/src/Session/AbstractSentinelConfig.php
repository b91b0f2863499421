<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Session;

use Cm\RedisSession\Handler\ClusterConfigInterface;
use Cm\RedisSession\Handler\ConfigInterface;
use Cm\RedisSession\Handler\ConfigSentinelPasswordInterface;
use Cm\RedisSession\Handler\TlsOptionsConfigInterface;
use Cm\RedisSession\Handler\UsernameConfigInterface;
use LibSentinel\Magento\MasterLocator;
use LibSentinel\Magento\SentinelSettings;

/**
 * The body of SentinelConfig (see SentinelConfig.php, which declares the
 * class with the optional upstream interfaces the installed
 * php-redis-session-abstract has).
 *
 * A Cm\RedisSession\Handler\ConfigInterface decorator for Magento sessions.
 * When the wrapped config (Magento's session/redis keys) names sentinels
 * (sentinel_servers, sentinel_master, sentinel_verify_master,
 * sentinel_connect_retries), getHost()/getPort() return the master resolved
 * through the sentinel extension and getSentinelServers() returns '', so
 * Cm\RedisSession\Handler connects straight to the master instead of asking
 * a sentinel on every request. Everything else is the wrapped config's:
 * every method of ConfigInterface (getRetries() included) and of the
 * optional interfaces the Handler tests with instanceof — username
 * (UsernameConfigInterface), sentinel password
 * (ConfigSentinelPasswordInterface), TLS options (TlsOptionsConfigInterface),
 * cluster (ClusterConfigInterface) — answering what the Handler would use
 * when the wrapped config does not implement one (null, the data password
 * for the sentinels, no cluster).
 *
 * TLS: with "tls://" sentinels (sentinel_servers = "tls://h1:26379,
 * tls://h2:26379"), or sentinel.tls = on, getHost() keeps the scheme
 * ("tls://10.0.0.3") so Credis speaks TLS to the master, and
 * getTlsOptions() passes the wrapped config's TLS context options through;
 * those the extension also has (cafile, local_cert, local_pk, peer_name,
 * verify_peer) are used for the sentinels too; the INI settings
 * sentinel.tls_* fill in the rest (see SentinelSettings).
 *
 * SentinelHandler wraps Magento's config in this decorator itself and
 * retries a session operation once on a connection error or -READONLY.
 */
abstract class AbstractSentinelConfig implements ConfigInterface
{
    private ?MasterLocator $locator = null;
    /** @var array{host: string, port: int}|null */
    private ?array $master = null;

    public function __construct(private readonly ConfigInterface $inner, ?MasterLocator $locator = null)
    {
        $servers = (string)$inner->getSentinelServers();
        if ($servers !== '' && ((string)$inner->getSentinelMaster()) !== ''
            && ($locator !== null || function_exists('Sentinel\resolve'))) {
            if ($locator !== null) {
                $this->locator = $locator;
                return;
            }
            // The settings as Magento's config gives them; the extension
            // remembers what they resolve to under these values (a changed
            // password, database, sentinel... is another key), so a request
            // parses nothing after its worker's first.
            $values = [
                $servers,
                (string)$inner->getSentinelMaster(),
                $inner->getSentinelVerifyMaster(),
                $inner->getSentinelConnectRetries(),
                $inner->getPassword() === null ? null : (string)$inner->getPassword(),
                (int)$inner->getDatabase(),
                $inner->getTimeout() === null ? null : (float)$inner->getTimeout(),
                self::optionalString(self::optionalCall($inner, UsernameConfigInterface::class, 'getUsername')),
                self::optionalString(self::optionalCall($inner, ConfigSentinelPasswordInterface::class,
                    'getSentinelPassword')),
                self::optionalCall($inner, TlsOptionsConfigInterface::class, 'getTlsOptions'),
            ];
            $this->locator = MasterLocator::forRemembered(['LibSentinel session', $values],
                static fn() => SentinelSettings::fromSessionValues(...$values));
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

    /** The resolved master, as "tls://host" when the sentinel list names a TLS scheme (or sentinel.tls is on). */
    public function getHost()
    {
        $m = $this->master();
        return $m === null ? $this->inner->getHost() : $this->locator->dataHost($m);
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
    public function getBotLifetime() { return $this->inner->getBotLifetime(); }
    public function getBotFirstLifetime() { return $this->inner->getBotFirstLifetime(); }
    public function getFirstLifetime() { return $this->inner->getFirstLifetime(); }
    public function getBreakAfter() { return $this->inner->getBreakAfter(); }
    public function getFailAfter() { return $this->inner->getFailAfter(); }
    public function getRetries() { return $this->inner->getRetries(); }

    /** Not in ConfigInterface; kept for configs that have it. */
    public function getBotDisableLocking()
    {
        return method_exists($this->inner, 'getBotDisableLocking') ? $this->inner->getBotDisableLocking() : null;
    }

    // ---- Optional interfaces (declared on SentinelConfig when installed) ----

    /** UsernameConfigInterface: the ACL user of the data nodes. */
    public function getUsername(): ?string
    {
        $u = self::optionalCall($this->inner, UsernameConfigInterface::class, 'getUsername');
        return $u === null ? null : (string)$u;
    }

    /** ConfigSentinelPasswordInterface: as the Handler falls back, the data password. */
    public function getSentinelPassword()
    {
        return $this->inner instanceof ConfigSentinelPasswordInterface
            ? $this->inner->getSentinelPassword() : $this->inner->getPassword();
    }

    /** TlsOptionsConfigInterface */
    public function getTlsOptions(): ?array
    {
        return self::optionalCall($this->inner, TlsOptionsConfigInterface::class, 'getTlsOptions');
    }

    /** ClusterConfigInterface: a cluster config is passed through (no sentinels then). */
    public function isCluster(): bool
    {
        return (bool)(self::optionalCall($this->inner, ClusterConfigInterface::class, 'isCluster') ?? false);
    }

    public function getClusterName(): ?string
    {
        return self::optionalCall($this->inner, ClusterConfigInterface::class, 'getClusterName');
    }

    public function getClusterSeeds(): ?array
    {
        return self::optionalCall($this->inner, ClusterConfigInterface::class, 'getClusterSeeds');
    }

    public function getClusterUsePersistentConnection(): bool
    {
        return (bool)(self::optionalCall($this->inner, ClusterConfigInterface::class,
            'getClusterUsePersistentConnection') ?? false);
    }

    private static function optionalString(mixed $v): ?string
    {
        return $v === null ? null : (string)$v;
    }

    /** $inner->$method() when $inner implements $interface (which may not be installed), else null. */
    private static function optionalCall(ConfigInterface $inner, string $interface, string $method): mixed
    {
        return interface_exists($interface) && $inner instanceof $interface ? $inner->$method() : null;
    }

    /** Anything newer interfaces add (username, TLS options...) is passed through. */
    public function __call(string $name, array $args): mixed
    {
        return $this->inner->$name(...$args);
    }
}
