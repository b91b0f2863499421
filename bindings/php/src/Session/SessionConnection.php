<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Session;

/**
 * One Cm\RedisSession\Handler connected to one master, as SentinelHandler
 * builds it: a new object for every (re)connection, because upstream's
 * constructor initialises readonly properties and must never run twice on
 * one object.
 *
 * The only addition: after a reconnect in the middle of a request, the new
 * connection takes over what the request's read() learned on the old one
 * (lock held, number of writes, lifetime, failed lock attempts), so the
 * write that follows is judged and expires as it would have been.
 */
final class SessionConnection extends \Cm\RedisSession\Handler
{
    public function continueRequestOf(\Cm\RedisSession\Handler $previous): void
    {
        $this->_hasLock = $previous->_hasLock;
        $this->_sessionWrites = $previous->_sessionWrites;
        $this->_lifeTime = $previous->_lifeTime;
        $this->failedLockAttempts = $previous->failedLockAttempts;
    }
}
