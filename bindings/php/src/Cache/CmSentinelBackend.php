<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Cache;

/**
 * Cm_Cache_Backend_Redis (OpenMage, Zend_Cache users) that finds the master
 * through the sentinel extension and follows failovers; see
 * SentinelBackendTrait. Magento 2 uses SentinelBackend.
 */
class CmSentinelBackend extends \Cm_Cache_Backend_Redis
{
    use SentinelBackendTrait;

    protected function sentinelParentSwallowsErrors(): bool
    {
        return false;
    }

    /** As Magento's class: the options (password included) stay out of dumps. */
    public function __debugInfo()
    {
        return [];
    }
}
