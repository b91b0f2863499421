<?php
// A request as a framework runs it (Magento turns every warning into an
// exception): resolve the master and say how the shared cache was used.
set_error_handler(function (int $no, string $msg): bool {
    throw new ErrorException($msg, 0, $no);
});
header('Content-Type: text/plain');
try {
    $m = Sentinel\resolve();
    echo json_encode(['pid' => getmypid(), 'port' => $m['port'],
                      'mode' => Sentinel\stats()['shared_cache_mode']]), "\n";
} catch (Throwable $e) {
    echo json_encode(['pid' => getmypid(), 'error' => get_class($e) . ': ' . $e->getMessage()]), "\n";
}
