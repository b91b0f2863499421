--TEST--
bindings: SentinelConfig implements every method of upstream's ConfigInterface and its optional interfaces; a Redis 6 ACL user and a Magento Config work end to end
--DESCRIPTION--
Regression (issue 14, points 1 and 5): SentinelConfig lacked getRetries() (a fatal
error with the real interface) and none of the optional interfaces Cm\RedisSession\Handler
tests with instanceof, so the username was dropped, as it was from the extension's ROLE check.
--EXTENSIONS--
sentinel
redis
--SKIPIF--
<?php require __DIR__ . '/bootstrap.inc'; sn_skip_without_topology(true); ?>
--INI--
sentinel.watch=1
--FILE--
<?php
require __DIR__ . '/bootstrap.inc';
require __DIR__ . '/session_config.inc';
use Cm\RedisSession\Handler as H;
use LibSentinel\Magento\Session\SentinelConfig;
use LibSentinel\Magento\Session\SentinelHandler;
use LibSentinel\Magento\Session\SentinelSaveHandler;

echo "-- every abstract method of the installed interfaces\n";
$c = new SentinelConfig(new AclArrayConfig(sn_session_env(['retries' => '3', 'username' => 'u1',
    'sentinel_password' => 'spw'])));
foreach ([H\ConfigInterface::class, H\ConfigSentinelPasswordInterface::class, H\UsernameConfigInterface::class,
          H\TlsOptionsConfigInterface::class, H\ClusterConfigInterface::class] as $i) {
    $missing = [];
    foreach ((new ReflectionClass($i))->getMethods() as $m) {
        if (!method_exists($c, $m->getName())) {
            $missing[] = $m->getName();
        }
    }
    printf("%s: %s, missing: %s\n", substr($i, strrpos($i, '\\') + 1), $c instanceof $i ? 'yes' : 'no',
        $missing ? implode(',', $missing) : 'none');
}
var_dump($c->getRetries(), $c->getUsername(), $c->getSentinelPassword(), $c->getTlsOptions(), $c->isCluster());
// A config without the optional interfaces: what the Handler would use without them.
$plain = new SentinelConfig(new ArrayConfig(sn_session_env(['password' => 'datapw'])));
var_dump($plain->getUsername(), $plain->getSentinelPassword());

echo "-- Redis 6 ACL user on the data nodes (default user has no password)\n";
$user = 'sn_acl_' . getmypid();
sn_on_every_node('ACL', 'SETUSER', $user, 'on', '>acl-secret', '~*', '&*', '+@all');
$env = sn_session_env(['username' => $user, 'password' => 'acl-secret']);
// No cached answer: the extension verifies the master with ROLE, logged in as the user.
Sentinel\invalidate(sn_master_name(), null, null, LibSentinel\Magento\SentinelSettings::fromSessionValues(
    $env['sentinel_servers'], $env['sentinel_master'], '1', '2', 'acl-secret', 2, 1.0, $user)->resolveOptions());
$log = new TestLogger();
$h = new SentinelHandler(new AclArrayConfig($env), $log);
$sid = 't013-' . getmypid();
var_dump($h->read($sid), $h->write($sid, 'acl|s:2:"ok";'), $h->read($sid));
echo "logged: ", count($log->exceptions), "\n";
$m = $h->getSentinelMaster();
$r = new Redis();
$r->connect($m['host'], $m['port']);
$r->auth([$user, 'acl-secret']);
$r->select(2);
echo "client list names the ACL user: ", var_export(str_contains(implode("\n", array_map(
    fn($cl) => $cl['user'] ?? '', $r->client('list'))), $user), true), "\n";
$h->destroy($sid);
$h->close();

echo "-- Magento's own Redis\\Config (session/redis keys from env.php) through SentinelSaveHandler\n";
if (class_exists(Magento\Framework\Session\SaveHandler\Redis\Config::class)) {
    $mc = new Magento\Framework\Session\SaveHandler\Redis\Config(
        new Magento\Framework\App\DeploymentConfig(['session' => ['redis' => sn_session_env()]]),
        new Magento\Framework\App\State('frontend'),
        new class implements Magento\Framework\App\Config\ScopeConfigInterface {
            public function getValue($path, $scopeType = 'default', $scopeCode = null) { return 3600; }
        },
    );
} else {
    $mc = new ArrayConfig(sn_session_env());   // stand-in run: Magento's class is not there
}
$sh = new SentinelSaveHandler($mc, new TestLogger());
var_dump($sh->open('', 'PHPSESSID'), $sh->read($sid . 'm'), $sh->write($sid . 'm', 'm|i:1;'), $sh->read($sid . 'm'),
    $sh->destroy($sid . 'm'), $sh->close());

echo "-- Magento's own save handler given a SentinelConfig (no retry, but the resolved master)\n";
$wrapped = new SentinelConfig($mc);
// The stored upstream version predates #[\ReturnTypeWillChange]: PHP 8.1+ deprecations on load.
$er = error_reporting(error_reporting() & ~E_DEPRECATED);
$hasMagentoHandler = class_exists(Magento\Framework\Session\SaveHandler\Redis::class);
error_reporting($er);
$mh = $hasMagentoHandler
    ? new Magento\Framework\Session\SaveHandler\Redis($wrapped, new TestLogger(), new Magento\Framework\Filesystem())
    : new SentinelSaveHandler($wrapped, new TestLogger());   // stand-in run: Magento's class is not there
var_dump($mh->read($sid . 'n'), $mh->write($sid . 'n', 'n|i:2;'), (function () use ($wrapped, $sid) {
    $r = new Redis();
    $r->connect($wrapped->getHost(), (int)$wrapped->getPort());
    $r->select(2);
    return $r->hGet('sess_' . $sid . 'n', 'data');
})(), $mh->destroy($sid . 'n'));
?>
--CLEAN--
<?php
require __DIR__ . '/bootstrap.inc';
require __DIR__ . '/session_config.inc';
sn_drop_test_acl_users();
?>
--EXPECT--
-- every abstract method of the installed interfaces
ConfigInterface: yes, missing: none
ConfigSentinelPasswordInterface: yes, missing: none
UsernameConfigInterface: yes, missing: none
TlsOptionsConfigInterface: yes, missing: none
ClusterConfigInterface: yes, missing: none
string(1) "3"
string(2) "u1"
string(3) "spw"
NULL
bool(false)
NULL
string(6) "datapw"
-- Redis 6 ACL user on the data nodes (default user has no password)
string(0) ""
bool(true)
string(13) "acl|s:2:"ok";"
logged: 0
client list names the ACL user: true
-- Magento's own Redis\Config (session/redis keys from env.php) through SentinelSaveHandler
bool(true)
string(0) ""
bool(true)
string(6) "m|i:1;"
bool(true)
bool(true)
-- Magento's own save handler given a SentinelConfig (no retry, but the resolved master)
string(0) ""
bool(true)
string(6) "n|i:2;"
bool(true)
