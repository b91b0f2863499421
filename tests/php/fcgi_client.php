<?php
/*
 * A minimal FastCGI client (responder role, one request per connection) for
 * the PHP-FPM tests and benchmarks: no dependencies beyond PHP's streams.
 */

const FCGI_VERSION_1 = 1;
const FCGI_BEGIN_REQUEST = 1;
const FCGI_END_REQUEST = 3;
const FCGI_PARAMS = 4;
const FCGI_STDIN = 5;
const FCGI_STDOUT = 6;
const FCGI_STDERR = 7;
const FCGI_RESPONDER = 1;

function fcgi_record(int $type, string $content, int $id = 1): string
{
    $len = strlen($content);
    $pad = (8 - $len % 8) % 8;
    return pack('CCnnCC', FCGI_VERSION_1, $type, $id, $len, $pad, 0) . $content . str_repeat("\0", $pad);
}

function fcgi_length(int $n): string
{
    return $n < 128 ? chr($n) : pack('N', $n | 0x80000000);
}

function fcgi_params(array $params): string
{
    $out = '';
    foreach ($params as $k => $v) {
        $out .= fcgi_length(strlen($k)) . fcgi_length(strlen($v)) . $k . $v;
    }
    return $out;
}

/**
 * Sends one GET request for $script to the FPM listening on $address
 * ("unix:///path" or "tcp://127.0.0.1:9000"); returns [status, body, stderr].
 */
function fcgi_get(string $address, string $script, string $query = '', float $timeout = 10.0): array
{
    $s = @stream_socket_client($address, $errno, $errstr, $timeout);
    if ($s === false) {
        throw new RuntimeException("connect $address: $errstr");
    }
    stream_set_timeout($s, (int)ceil($timeout));
    $params = fcgi_params([
        'GATEWAY_INTERFACE' => 'FastCGI/1.0',
        'REQUEST_METHOD' => 'GET',
        'SCRIPT_FILENAME' => $script,
        'SCRIPT_NAME' => '/' . basename($script),
        'REQUEST_URI' => '/' . basename($script) . ($query !== '' ? "?$query" : ''),
        'QUERY_STRING' => $query,
        'SERVER_SOFTWARE' => 'fcgi_client.php',
        'SERVER_PROTOCOL' => 'HTTP/1.1',
        'SERVER_NAME' => 'localhost',
        'SERVER_PORT' => '80',
        'REMOTE_ADDR' => '127.0.0.1',
        'CONTENT_LENGTH' => '0',
    ]);
    $req = fcgi_record(FCGI_BEGIN_REQUEST, pack('nCxxxxx', FCGI_RESPONDER, 0))
        . fcgi_record(FCGI_PARAMS, $params) . fcgi_record(FCGI_PARAMS, '')
        . fcgi_record(FCGI_STDIN, '');
    fwrite($s, $req);
    $stdout = $stderr = '';
    $status = null;
    for ($i = 0; $i < 100000; $i++) {
        $h = fread($s, 8);
        if ($h === false || strlen($h) < 8) {
            break;
        }
        $r = unpack('Cversion/Ctype/nid/nlen/Cpad/Creserved', $h);
        $body = '';
        while (strlen($body) < $r['len'] + $r['pad']) {
            $chunk = fread($s, $r['len'] + $r['pad'] - strlen($body));
            if ($chunk === false || $chunk === '') {
                break 2;
            }
            $body .= $chunk;
        }
        $body = substr($body, 0, $r['len']);
        if ($r['type'] === FCGI_STDOUT) {
            $stdout .= $body;
        } elseif ($r['type'] === FCGI_STDERR) {
            $stderr .= $body;
        } elseif ($r['type'] === FCGI_END_REQUEST) {
            $status = unpack('Napp/Cproto', $body)['app'];
            break;
        }
    }
    fclose($s);
    if ($status === null) {
        throw new RuntimeException("no FCGI_END_REQUEST from $address");
    }
    $pos = strpos($stdout, "\r\n\r\n");
    return [$status, $pos === false ? $stdout : substr($stdout, $pos + 4), $stderr];
}
