<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Session;

use Cm\RedisSession\Handler\LoggerInterface;

/**
 * A Cm\RedisSession\Handler\LoggerInterface decorator that also remembers
 * the exceptions handed to logException().
 *
 * Cm\RedisSession\Handler::write() catches every exception, logs it with
 * logException() and returns false; this is how SentinelHandler still sees
 * the READONLY or lost connection behind that false. Everything is passed on
 * to the wrapped logger unchanged.
 */
final class ExceptionTrapLogger implements LoggerInterface
{
    /** @var list<\Exception> */
    private array $trapped = [];

    public function __construct(private readonly LoggerInterface $inner)
    {
    }

    public function inner(): LoggerInterface
    {
        return $this->inner;
    }

    /** Forget what was trapped so far (call before the operation to watch). */
    public function reset(): void
    {
        $this->trapped = [];
    }

    /** The last exception logged since reset(), if any. */
    public function last(): ?\Exception
    {
        return $this->trapped === [] ? null : $this->trapped[count($this->trapped) - 1];
    }

    public function setLogLevel($level)
    {
        $this->inner->setLogLevel($level);
    }

    public function log($message, $level)
    {
        $this->inner->log($message, $level);
    }

    public function logException(\Exception $e)
    {
        $this->trapped[] = $e;
        $this->inner->logException($e);
    }
}
