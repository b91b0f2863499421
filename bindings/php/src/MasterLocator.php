<?php

declare(strict_types=1);

namespace LibSentinel\Magento;

/**
 * Finds the master through the sentinel extension and decides what an error
 * means: on a connection error or -READONLY the answer is forgotten (in this
 * worker and host-wide) and the operation is retried once on a freshly
 * resolved master.
 *
 * The two extension calls are injectable so the logic is testable without
 * the extension or a topology.
 */
final class MasterLocator
{
    /** @var callable(string, array): array */
    private $resolve;
    /** @var callable(string, int, string, string, array): bool */
    private $reportError;

    public function __construct(
        private readonly SentinelSettings $settings,
        ?callable $resolve = null,
        ?callable $reportError = null,
    ) {
        $this->resolve = $resolve ?? static fn(string $m, array $o): array => \Sentinel\resolve($m, $o);
        $this->reportError = $reportError ?? static fn(string $h, int $p, string $e, string $m, array $o): bool
            => \Sentinel\report_error($h, $p, $e, $m, $o);
    }

    public function settings(): SentinelSettings
    {
        return $this->settings;
    }

    /**
     * @return array{host: string, port: int}
     * @throws \Sentinel\Exception
     */
    public function locate(): array
    {
        $r = ($this->resolve)($this->settings->master, $this->settings->resolveOptions());
        return ['host' => (string)$r['host'], 'port' => (int)$r['port']];
    }

    /** Report an error from host:port; true when it means "re-resolve". */
    public function reportError(string $host, int $port, \Throwable $e): bool
    {
        return ($this->reportError)($host, $port, $e->getMessage(), $this->settings->master,
            $this->settings->resolveOptions());
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
        } catch (\Exception $e) {
            $addr = $current();
            if (!$this->reportError($addr['host'], $addr['port'], $e)) {
                throw $e;
            }
            $reconnect();
            return $operation();
        }
    }
}
