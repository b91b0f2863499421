<?php

declare(strict_types=1);

namespace LibSentinel\Magento;

/**
 * Finds the master through the sentinel extension and decides what an error
 * means, for the cache backends and the session handler alike.
 *
 * - locate(): the master and the failover epoch it was resolved at.
 * - retryOnce(): on a connection error or -READONLY the answer is forgotten
 *   (in this worker and host-wide) and the operation retried once on a
 *   freshly resolved master. Any \Throwable is judged (upstream's own
 *   errors, PHP's \Error from a broken connection object...).
 * - fenced(): before an operation, checks that the master the caller is
 *   connected to is still current and reconnects if not; after a write,
 *   checks again and re-applies the write on the new master when a failover
 *   began while it was in flight (its acknowledgement may have come from a
 *   frozen or demoted master after the promotion). Only idempotent writes go
 *   through it: cache save/remove/clean/touch, session write/destroy.
 *
 * "Still current" is the extension's failover epoch (Sentinel\epoch(): this
 * process' count of failovers of the master, read from memory or the shared
 * cache, no network in steady state) compared with the epoch the connection
 * was made at. Without Sentinel\epoch() (an older extension) it is the
 * address Sentinel\resolve() answers now (from memory in steady state)
 * compared with the connected one.
 *
 * The extension calls are injectable so the logic is testable without the
 * extension or a topology.
 *
 * Per request, a locator of forCacheOptions() makes one extension call:
 * Sentinel\resolve_remembered() with the backend_options array as its key
 * (the extension hashes the array as it walks it: no serialize()). The
 * options are parsed (SentinelSettings) and handed to Sentinel\remember()
 * only when the worker does not remember them yet, or when something needs
 * the settings (an error report, a reconnect, the epoch of a long-lived
 * object, load_from_slaves, TLS).
 */
final class MasterLocator
{
    /** A master located less than this long ago is not checked again before an operation. */
    public const FRESH_SECONDS = 0.05;

    /** @var (callable(string, array): array)|null null: Sentinel\resolve() */
    private $resolve;
    /** @var (callable(string, int, string, string, array): bool)|null null: Sentinel\report_error() */
    private $reportError;
    /** @var (callable(string, array): int)|null null: no epoch, or Sentinel\epoch() when $extEpoch */
    private $epoch;
    /** Whether the epoch is Sentinel\epoch() (called directly: no closure per locator). */
    private bool $extEpoch = false;
    /** @var array<string, mixed>|null */
    private ?array $options = null;
    private ?SentinelSettings $settings;
    /** @var array<string, mixed>|null forCacheOptions()'s backend_options, parsed when needed */
    private ?array $cacheOptions = null;
    /** @var array<mixed>|null the key for Sentinel\resolve_remembered() (forCacheOptions(): the options), or null */
    private ?array $rememberKey = null;
    /** @var (\Closure(): SentinelSettings)|null forRemembered()'s settings, parsed when needed */
    private ?\Closure $settingsFactory = null;
    /** @var array<string, self> forCacheOptions()'s locators, by serialized options */
    private static array $byOptions = [];
    /** Whether the extension has Sentinel\epoch() / Sentinel\resolve_remembered(), asked once. */
    private static ?bool $extHasEpoch = null;
    private static ?bool $extRemembers = null;
    private static ?bool $extEpochRemembered = null;

    /**
     * @param callable|false|null $epoch the failover epoch of the master; null:
     *        Sentinel\epoch() when the extension has it; false: no epoch (fences
     *        compare the resolved address instead)
     * @param float $freshSeconds a master located less than this long ago is not
     *        checked again before an operation (a backend built for one request
     *        runs its first operation microseconds after locate()); writes are
     *        still checked after they ran
     */
    public function __construct(
        ?SentinelSettings $settings,
        ?callable $resolve = null,
        ?callable $reportError = null,
        callable|false|null $epoch = null,
        private readonly float $freshSeconds = self::FRESH_SECONDS,
    ) {
        // The extension's functions are called directly (a locator is built
        // on every PHP-FPM request: no closures, no reflection).
        $this->settings = $settings;
        $this->resolve = $resolve;
        $this->reportError = $reportError;
        if ($epoch === null) {
            $this->extEpoch = self::$extHasEpoch ??= function_exists('Sentinel\epoch');
        } elseif ($epoch !== false) {
            $this->epoch = $epoch;
        }
    }

    public function settings(): SentinelSettings
    {
        return $this->settings ??= $this->settingsFactory !== null ? ($this->settingsFactory)()
            : SentinelSettings::fromCacheOptions($this->cacheOptions ?? []);
    }

    /**
     * The master's address as Credis takes it (SentinelSettings::dataHost()):
     * $node['host'] as is when $node says its settings use no TLS (an answer
     * of resolve_remembered(): 'tls' => false), without parsing them.
     */
    public function dataHost(array $node): string
    {
        return ($node['tls'] ?? null) === false ? $node['host'] : $this->settings()->dataHost($node['host']);
    }

    /**
     * locate() for Cm_Cache backend_options, as forCacheOptions($options)->locate()
     * answers, in one extension call and without building a locator when
     * this worker remembers them (every PHP-FPM request but its first).
     *
     * @return array{host: string, port: int, epoch: int|null, at: float}
     */
    public static function locateForCacheOptions(array $options): array
    {
        if (self::$extRemembers ??= function_exists('Sentinel\resolve_remembered')) {
            $r = \Sentinel\resolve_remembered($options);
            if ($r !== false) {
                $r['at'] = microtime(true);
                return $r;
            }
            $locator = self::forCacheOptions($options);
            if ($locator->rememberKey !== null) {
                return $locator->rememberAndLocate();
            }
            return $locator->locate();
        }
        return self::forCacheOptions($options)->locate();
    }

    /** Whether fences use the extension's failover epoch (else the resolved address). */
    public function hasEpoch(): bool
    {
        return $this->extEpoch || $this->epoch !== null;
    }

    /**
     * @return array{host: string, port: int, epoch: int|null, at: float} at: when (microtime)
     * @throws \Sentinel\Exception
     */
    public function locate(): array
    {
        if ($this->rememberKey !== null) {
            $r = \Sentinel\resolve_remembered($this->rememberKey);
            return $r === false ? $this->rememberAndLocate() : $r + ['at' => microtime(true)];
        }
        $r = $this->resolve === null ? \Sentinel\resolve($this->settings()->master, $this->options())
            : ($this->resolve)($this->settings()->master, $this->options());
        // resolve()'s epoch is the one its answer is valid at; without it, the
        // epoch read now (if it moved since, the next fence reconnects once).
        $epoch = isset($r['epoch']) ? (int)$r['epoch'] : $this->currentEpoch();
        return ['host' => (string)$r['host'], 'port' => (int)$r['port'], 'epoch' => $epoch, 'at' => microtime(true)];
    }

    /**
     * locate() for settings this worker does not remember yet (or forgot for
     * room): parsed once, remembered, resolved.
     */
    private function rememberAndLocate(): array
    {
        // By the id: it answers even for a key the extension cannot hash.
        $id = \Sentinel\remember(['master' => $this->settings()->master] + $this->options(), $this->rememberKey);
        $r = \Sentinel\resolve_remembered($id);
        if ($r === false) {
            throw new \LogicException('Sentinel\\remember() did not keep the settings');
        }
        // The answer as it came (host, port, epoch, source, tls), stamped.
        $r['at'] = microtime(true);
        return $r;
    }

    /** The failover epoch as this process knows it, or null without Sentinel\epoch(). */
    public function currentEpoch(): ?int
    {
        if ($this->extEpoch && $this->rememberKey !== null
            && (self::$extEpochRemembered ??= function_exists('Sentinel\epoch_remembered'))) {
            // Remembered settings: no parsing (false: not remembered yet, or forgotten).
            $e = \Sentinel\epoch_remembered($this->rememberKey);
            if ($e !== false) {
                return $e;
            }
        }
        if ($this->extEpoch) {
            return \Sentinel\epoch($this->settings()->master, $this->options());
        }
        return $this->epoch === null ? null : (int)($this->epoch)($this->settings()->master, $this->options());
    }

    /**
     * Whether $master (an answer of locate()) is still the master: same
     * failover epoch, or without an epoch the same resolved address.
     *
     * @param array{host: string, port: int, epoch?: int|null} $master
     */
    public function isCurrent(array $master): bool
    {
        if ($this->extEpoch || $this->epoch !== null) {
            return $this->currentEpoch() === ($master['epoch'] ?? null);
        }
        $now = $this->resolve === null ? \Sentinel\resolve($this->settings()->master, $this->options())
            : ($this->resolve)($this->settings()->master, $this->options());
        return (string)$now['host'] === $master['host'] && (int)$now['port'] === $master['port'];
    }

    /**
     * Whether $master (an answer of locate()) was located less than
     * $freshSeconds ago, so an operation need not check it again first.
     */
    public function isFresh(array $master): bool
    {
        return microtime(true) - ($master['at'] ?? 0.0) < $this->freshSeconds;
    }

    /** Report an error from host:port; true when it means "re-resolve". */
    public function reportError(string $host, int $port, \Throwable $e): bool
    {
        if ($this->reportError === null) {
            return \Sentinel\report_error($host, $port, $e->getMessage(), $this->settings()->master, $this->options());
        }
        return ($this->reportError)($host, $port, $e->getMessage(), $this->settings()->master, $this->options());
    }

    /**
     * Runs $operation; when it fails with an error that means the master
     * moved (connection lost, READONLY), forgets the master, calls
     * $reconnect to connect to the newly resolved one, and runs $operation
     * once more. Any other error, or a second failure, propagates.
     *
     * @template T
     * @param callable(): T $operation
     * @param callable(): void $reconnect
     * @param callable(): array{host: string, port: int} $current the master $operation used
     * @return T
     */
    public function retryOnce(callable $operation, callable $reconnect, callable $current): mixed
    {
        try {
            return $operation();
        } catch (\Throwable $e) {
            $addr = $current();
            if (!$this->reportError($addr['host'], $addr['port'], $e)) {
                throw $e;
            }
            $reconnect();
            return $operation();
        }
    }

    /**
     * retryOnce() behind a fence: reconnect first if the connected master is
     * no longer current (unless it was located less than $freshSeconds ago); for a write ($idempotentWrite), re-apply it on the
     * new master when the master changed while it ran (bounded: two more
     * failovers during one write still end in an answer).
     *
     * @template T
     * @param callable(): T $operation
     * @param callable(): void $reconnect connects to locate()'s answer
     * @param callable(): array{host: string, port: int, epoch: int|null} $current
     * @return T
     */
    public function fenced(callable $operation, callable $reconnect, callable $current, bool $idempotentWrite): mixed
    {
        $connected = $current();
        if (!$this->isFresh($connected) && !$this->isCurrent($connected)) {
            $reconnect();
        }
        $result = $this->retryOnce($operation, $reconnect, $current);
        for ($i = 0; $idempotentWrite && $i < 2 && !$this->isCurrent($current()); $i++) {
            $reconnect();
            $result = $this->retryOnce($operation, $reconnect, $current);
        }
        return $result;
    }

    /**
     * The locator for Cm_Cache backend_options, shared by the backends of
     * this process (an FPM worker builds one per request): options are
     * parsed once. Bounded; the oldest entry goes first.
     */
    public static function forCacheOptions(array $options): self
    {
        $key = serialize($options);
        if (!isset(self::$byOptions[$key])) {
            if (count(self::$byOptions) >= 32) {
                array_shift(self::$byOptions);
            }
            $locator = new self(null);
            $locator->cacheOptions = $options;
            if (self::$extRemembers ??= function_exists('Sentinel\resolve_remembered')) {
                $locator->rememberKey = $options;
            }
            self::$byOptions[$key] = $locator;
        }
        return self::$byOptions[$key];
    }

    /**
     * A locator whose settings are remembered by the extension under $key (an
     * array of scalars and arrays naming them, e.g. a session config's
     * values): locate() and the epoch checks make one extension call each and
     * parse nothing; $settings is called only when the worker does not
     * remember them yet, or something needs them (an error report). Without
     * Sentinel\resolve_remembered(), a plain locator of $settings().
     *
     * @param \Closure(): SentinelSettings $settings
     */
    public static function forRemembered(array $key, \Closure $settings): self
    {
        if (!(self::$extRemembers ??= function_exists('Sentinel\resolve_remembered'))) {
            return new self($settings());
        }
        $locator = new self(null);
        $locator->settingsFactory = $settings;
        $locator->rememberKey = $key;
        return $locator;
    }

    /**
     * Forgets the locators forCacheOptions() keeps, as the end of a PHP-FPM
     * request does (benchmarks/php measures the per-request path with it).
     */
    public static function forgetCached(): void
    {
        self::$byOptions = [];
    }

    /** @return array<string, mixed> */
    private function options(): array
    {
        return $this->options ??= $this->settings()->resolveOptions();
    }
}
