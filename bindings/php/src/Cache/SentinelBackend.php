<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Cache;

/**
 * Magento 2's Redis cache backend (Magento\Framework\Cache\Backend\Redis:
 * preload_keys, save()/remove() answering false on a Redis error,
 * __debugInfo() hiding the options) that finds the master through the
 * sentinel extension and follows failovers; see SentinelBackendTrait.
 * For OpenMage or plain Zend/Cm_Cache use CmSentinelBackend.
 */
class SentinelBackend extends \Magento\Framework\Cache\Backend\Redis
{
    use SentinelBackendTrait;

    protected function sentinelParentSwallowsErrors(): bool
    {
        return true;
    }
}
