--TEST--
sentinel: function signatures match sentinel.stub.php (the committed arginfo)
--EXTENSIONS--
sentinel
--FILE--
<?php
foreach (['resolve', 'invalidate', 'report_error', 'stats'] as $f) {
    $r = new ReflectionFunction("Sentinel\\$f");
    $params = [];
    foreach ($r->getParameters() as $p) {
        $params[] = $p->getType() . ' $' . $p->getName()
            . ($p->isDefaultValueAvailable() ? ' = ' . var_export($p->getDefaultValue(), true) : '');
    }
    echo $r->getName(), '(', implode(', ', $params), '): ', $r->getReturnType(), "\n";
}
echo get_parent_class(Sentinel\Exception::class), "\n";
?>
--EXPECT--
Sentinel\resolve(?string $master = NULL, ?array $options = NULL): array
Sentinel\invalidate(?string $master = NULL, ?string $host = NULL, ?int $port = NULL, ?array $options = NULL): bool
Sentinel\report_error(string $host, int $port, string $error, ?string $master = NULL, ?array $options = NULL): bool
Sentinel\stats(): array
RuntimeException
