<?php

declare(strict_types=1);

namespace LibSentinel\Magento\Session;

use Cm\RedisSession\Handler\ClusterConfigInterface;
use Cm\RedisSession\Handler\ConfigSentinelPasswordInterface;
use Cm\RedisSession\Handler\TlsOptionsConfigInterface;
use Cm\RedisSession\Handler\UsernameConfigInterface;

/*
 * SentinelConfig: AbstractSentinelConfig declared with every optional
 * interface Cm\RedisSession\Handler tests with instanceof that the installed
 * colinmollenhour/php-redis-session-abstract has, so the Handler reads the
 * username, sentinel password and TLS options through the decorator:
 *   >= 2.1.0: UsernameConfigInterface, TlsOptionsConfigInterface,
 *             ClusterConfigInterface (and ConfigSentinelPasswordInterface);
 *   >= 1.5.2: ConfigSentinelPasswordInterface;
 *   older:    ConfigInterface only.
 * (A class cannot implement an interface that is not installed, hence the
 * conditional declaration.)
 */
if (interface_exists(UsernameConfigInterface::class) && interface_exists(TlsOptionsConfigInterface::class)
    && interface_exists(ClusterConfigInterface::class) && interface_exists(ConfigSentinelPasswordInterface::class)) {
    class SentinelConfig extends AbstractSentinelConfig implements
        ConfigSentinelPasswordInterface,
        UsernameConfigInterface,
        TlsOptionsConfigInterface,
        ClusterConfigInterface
    {
    }
} elseif (interface_exists(ConfigSentinelPasswordInterface::class)) {
    class SentinelConfig extends AbstractSentinelConfig implements ConfigSentinelPasswordInterface
    {
    }
} else {
    class SentinelConfig extends AbstractSentinelConfig
    {
    }
}
