<?php
/*
 * The failover benchmark's report: reads the raw results `run` left in
 * RAW/ (one directory per scenario, plus steady/, env.txt, skipped.txt),
 * and writes into OUT/:
 *
 *   results.json   one record per path x scenario, with the machine and versions
 *   results.md     the tables (also printed on stdout)
 *   SCENARIO.svg   acknowledged writes per 10 ms per path, one time axis
 *
 *   php report.php --raw RAW --out OUT [--scenarios kill,freeze,...]
 *
 * Exit status: 0; 1 when one of our paths (ours-c, sentinel-proxy, php-ext)
 * lost an acknowledged write in kill/freeze/manual or did not recover in a
 * failover scenario (correctness only, never timings); 3 when a scenario
 * needed for that check did not complete.
 */

declare(strict_types=1);

require __DIR__ . '/lib/analyze.php';
require __DIR__ . '/lib/svg.php';

const CHECK_LOSS = ['kill', 'freeze', 'manual'];
const CHECK_RECOVERY = ['kill', 'freeze', 'manual', 'sentinel-loss'];
const SCENARIO_TITLES = [
    'kill' => 'kill: SIGKILL the master',
    'freeze' => 'freeze: SIGSTOP the master, SIGCONT it later',
    'manual' => 'manual: SENTINEL FAILOVER',
    'sentinel-loss' => 'sentinel-loss: kill the preferred sentinel, then SENTINEL FAILOVER',
    'no-sentinels' => 'no-sentinels: every sentinel down, master up, then a 1 s master stall',
    'unknown-name' => 'unknown-name: a master name no sentinel knows',
];

function arg(array $argv, string $name, ?string $default = null): ?string
{
    $i = array_search("--$name", $argv, true);
    return $i !== false && isset($argv[$i + 1]) ? $argv[$i + 1] : $default;
}

function fmt($v, string $none = '–'): string
{
    if ($v === null) {
        return $none;
    }
    if (is_bool($v)) {
        return $v ? 'yes' : '**no**';
    }
    if (is_float($v)) {
        return number_format($v, abs($v) < 10 && floor($v) != $v ? 1 : 0, '.', '');
    }
    return (string)$v;
}

function clip(string $s, int $n): string
{
    return strlen($s) > $n ? substr($s, 0, $n - 3) . '...' : $s;
}

function md_cell(string $s): string
{
    return str_replace(['|', "\n"], ['\\|', ' '], $s);
}

function sort_paths(array $paths): array
{
    usort($paths, fn($a, $b) => array_search($a, FO_PATH_ORDER, true) <=> array_search($b, FO_PATH_ORDER, true));
    return $paths;
}

/* ========================================================================
 * Inputs
 * ======================================================================== */

$raw = arg($argv, 'raw');
$out = arg($argv, 'out');
if ($raw === null || $out === null || !is_dir($raw)) {
    fwrite(STDERR, "usage: php report.php --raw RAW --out OUT [--scenarios LIST]\n");
    exit(2);
}
$scenarios = explode(',', arg($argv, 'scenarios', 'kill,freeze,manual,sentinel-loss,no-sentinels,unknown-name'));
$env = fo_read_kv("$raw/env.txt");
$skippedPaths = [];
foreach (@file("$raw/skipped.txt", FILE_IGNORE_NEW_LINES) ?: [] as $line) {
    if (trim($line) !== '') {
        [$p, $why] = explode(' ', $line, 2) + [1 => ''];
        $skippedPaths[$p] = $why;
    }
}
$failedRuns = array_filter(@file("$raw/failed-runs.txt", FILE_IGNORE_NEW_LINES) ?: []);

/* Every path that was asked for, in table order. */
$paths = array_keys($skippedPaths);
foreach (array_merge(['steady'], $scenarios) as $s) {
    $meta = fo_read_kv("$raw/$s/meta");
    foreach (explode(',', $meta['paths'] ?? '') as $p) {
        if ($p !== '') {
            $paths[] = $p;
        }
    }
}
if (is_dir("$raw/steady")) {
    foreach (glob("$raw/steady/*.txt") as $f) {
        $b = basename($f, '.txt');
        if (isset(FO_LABELS[$b])) {
            $paths[] = $b;
        }
    }
}
$paths = sort_paths(array_values(array_unique($paths)));
$ran = array_values(array_diff($paths, array_keys($skippedPaths)));

/* ========================================================================
 * Analysis
 * ======================================================================== */

$results = [];
foreach ($scenarios as $s) {
    if (!is_dir("$raw/$s")) {
        $results[$s] = ['facts' => ['scenario' => $s, 'error' => 'did not run'], 'records' => [],
                        'timeline' => null];
    } elseif ($s === 'unknown-name') {
        $results[$s] = fo_analyze_unknown_name("$raw/$s", $ran);
    } else {
        $results[$s] = fo_analyze_fault_scenario("$raw/$s", $s, $ran);
    }
    foreach ($skippedPaths as $p => $why) {
        $r = fo_base_record($s, $p);
        $r['skipped'] = $why;
        $results[$s]['records'][] = $r;
    }
    usort($results[$s]['records'], fn($a, $b) => array_search($a['path'], FO_PATH_ORDER, true)
        <=> array_search($b['path'], FO_PATH_ORDER, true));
}
$steady = is_dir("$raw/steady") ? fo_analyze_steady("$raw/steady", $ran) : null;

/* ========================================================================
 * The correctness check (CI)
 * ======================================================================== */

$failures = [];
$incomplete = [];
$notes = [];
foreach ($scenarios as $s) {
    $needed = in_array($s, CHECK_LOSS, true) || in_array($s, CHECK_RECOVERY, true);
    if (isset($results[$s]['facts']['error'])) {
        if ($needed) {
            $incomplete[] = "$s: {$results[$s]['facts']['error']}";
        }
        continue;
    }
    if (!in_array($s, FO_FAILOVER_SCENARIOS, true)) {
        continue;
    }
    if (empty($results[$s]['facts']['replicas_in_sync_before_fault'])) {
        $notes[] = "$s: replicas were not confirmed in sync before the fault";
    }
    foreach ($results[$s]['records'] as $r) {
        if ($r['ours'] && !empty($r['no_log'])) {
            $incomplete[] = "$s / {$r['path']}: the writer left no log";
            continue;
        }
        if (!$r['ours'] || $r['skipped'] !== null) {
            continue;
        }
        if (in_array($s, CHECK_LOSS, true)) {
            if ($r['lost'] === null) {
                $incomplete[] = "$s / {$r['path']}: acknowledged writes could not be verified";
            } elseif ($r['lost_preventable'] > 0) {
                $failures[] = "$s / {$r['path']}: lost {$r['lost_preventable']} acknowledged writes";
            }
            if (($r['lost_at_crash'] ?? 0) > 0) {
                $notes[] = "$s / {$r['path']}: {$r['lost_at_crash']} write(s) acknowledged by the old master "
                    . 'after the sync point, right before it died or froze, never reached a replica (asynchronous '
                    . 'replication; not a CI failure)';
            }
        } elseif ($r['lost'] !== null && $r['lost'] > 0) {
            $notes[] = "$s / {$r['path']}: lost {$r['lost']} acknowledged writes (not a CI failure)";
        }
        if (in_array($s, CHECK_RECOVERY, true) && !$r['recovered']) {
            $failures[] = "$s / {$r['path']}: never recovered (no surviving write in the last second)";
        }
    }
}
foreach (FO_OURS as $p) {
    if (isset($skippedPaths[$p])) {
        $notes[] = "$p was not measured: {$skippedPaths[$p]}";
    }
}
foreach ($failedRuns as $f) {
    $notes[] = "run failed: $f";
}

/* ========================================================================
 * JSON
 * ======================================================================== */

@mkdir($out, 0777, true);
$records = [];
if ($steady) {
    $records = array_merge($records, $steady['records']);
}
foreach ($results as $r) {
    $records = array_merge($records, $r['records']);
}
$json = [
    'benchmark' => 'failover',
    'profile' => $env['profile'] ?? null,
    'date' => $env['date'] ?? null,
    'machine' => ['cpu' => $env['cpu'] ?? null, 'cpus' => (int)($env['cpus'] ?? 0),
                  'mem_kib' => (int)($env['mem_kib'] ?? 0), 'kernel' => $env['kernel'] ?? null,
                  'os' => $env['os'] ?? null],
    'versions' => ['redis' => $env['redis'] ?? null, 'hiredis' => $env['hiredis'] ?? null,
                   'libsentinel' => $env['libsentinel'] ?? null, 'haproxy' => $env['haproxy'] ?? null,
                   'php' => $env['php'] ?? null, 'phpredis' => $env['phpredis'] ?? null,
                   'gcc' => $env['gcc'] ?? null, 'git' => $env['git'] ?? null],
    'settings' => ['topology' => '1 master, 2 replicas, 3 sentinels, loopback',
                   'down_after_ms' => 1000, 'failover_timeout_ms' => 10000,
                   'sentinel_info_period_ms' => 10000, 'write_interval_us' => 1000,
                   'client_connect_timeout_ms' => 250, 'client_read_timeout_ms' => 500],
    'scenarios' => array_merge($steady ? [$steady['facts']] : [],
        array_map(fn($r) => $r['facts'], array_values($results))),
    'records' => $records,
    'skipped_paths' => $skippedPaths,
    'check' => ['passed' => !$failures && !$incomplete, 'failures' => $failures,
                'incomplete' => $incomplete, 'notes' => $notes],
];
file_put_contents("$out/results.json", json_encode($json, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");

/* ========================================================================
 * SVG
 * ======================================================================== */

$svgs = [];
foreach ($results as $s => $res) {
    $tl = $res['timeline'];
    if ($tl === null) {
        continue;
    }
    $lanes = [];
    if ($s === 'unknown-name') {
        [$from, $to, $zero] = [$tl['start'], $tl['stop'], $tl['start']];
        $markers = [];
        $sub = 'every path started at 0 with a wrong master name';
    } else {
        $from = $tl['fault'] - 1000000;
        [$to, $zero] = [$tl['stop'], $tl['fault']];
        $markers = ['fault' => $tl['fault'], 'promotion' => $tl['promotion'],
                    'first +switch-master' => $tl['switch'], 'thaw' => $tl['thaw'],
                    'master stalled' => $tl['stall']];
        if ($s === 'sentinel-loss') {
            $markers['SENTINEL FAILOVER'] = $tl['failover'];
        }
        $f = $res['facts'];
        $sub = sprintf('promotion %s ms, first +switch-master %s ms after the %s; lanes: acknowledged writes per 10 ms',
            fmt($f['fault_to_promotion_ms'] ?? null), fmt($f['fault_to_switch_master_ms'] ?? null),
            $s === 'sentinel-loss' ? 'SENTINEL FAILOVER' : 'fault');
        if ($s === 'no-sentinels') {
            $sub = sprintf('all sentinels killed at 0; the master stalls (SIGSTOP) at %s ms, SIGCONT 1 s later',
                fmt($f['stall_ms'] ?? null));
        }
    }
    foreach ($res['records'] as $r) {
        $lane = ['label' => $r['label'], 'note' => '', 'kept' => [], 'lost' => [], 'errors' => [],
                 'skipped' => $r['skipped']];
        if ($r['skipped'] === null) {
            $series = fo_chart_series("$raw/$s", $r['path'], $from, $to,
                $s === 'unknown-name' ? null : $tl['final_port']);
            $lane = array_merge($lane, $series);
            $lane['note'] = $s === 'unknown-name'
                ? sprintf('first error %s ms', fmt($r['time_to_first_error_ms']))
                : sprintf('lost %s%s, longest gap %s ms', fmt($r['lost']),
                    ($r['lost_at_crash'] ?? 0) > 0 ? " ({$r['lost_at_crash']} at the crash)" : '',
                    fmt($r['longest_gap_ms']));
        }
        $lanes[] = $lane;
    }
    $svg = svg_scenario(SCENARIO_TITLES[$s] ?? $s, $sub, $lanes, $markers, $from, $to, $zero, 10.0,
        $s === 'unknown-name' ? 'seconds after the start' : 'seconds after the fault');
    file_put_contents("$out/$s.svg", $svg);
    $svgs[$s] = "$s.svg";
}

/* ========================================================================
 * Markdown
 * ======================================================================== */

$md = [];
$md[] = sprintf('## Failover benchmark (%s run, %s)', $env['profile'] ?? '?', $env['date'] ?? '?');
$md[] = '';
$md[] = sprintf('Machine: %s (%s vCPUs), %.0f GiB, %s, %s. Versions: Redis %s, hiredis %s, libsentinel %s, '
    . 'HAProxy %s, PHP %s, phpredis %s.', $env['cpu'] ?? '?', $env['cpus'] ?? '?',
    ((int)($env['mem_kib'] ?? 0)) / 1048576, $env['kernel'] ?? '?', $env['os'] ?? '?', $env['redis'] ?? '?',
    $env['hiredis'] ?? '?', $env['libsentinel'] ?? '?', $env['haproxy'] ?: '–', $env['php'] ?: '–',
    $env['phpredis'] ?: '–');
$md[] = '';
$md[] = 'Every path writes one SET of a unique key per ms (connect timeout 250 ms, read timeout 500 ms), '
    . 'all at once against one topology (1 master, 2 replicas, 3 sentinels on loopback; down-after 1000 ms, '
    . "Sentinel's default 10 s info period), replicas in sync before the fault, which hits every path at the "
    . 'same moment.';
$md[] = '';

$fault = array_filter($scenarios, fn($s) => in_array($s, FO_FAILOVER_SCENARIOS, true));
if ($fault) {
    $md[] = '### Failovers';
    $md[] = '';
    $md[] = '| scenario | path | acked | lost | to a demoted master | longest gap (ms) | resumed (ms) | errors | recovered |';
    $md[] = '|---|---|--:|--:|--:|--:|--:|--:|:-:|';
    foreach ($fault as $s) {
        foreach ($results[$s]['records'] as $r) {
            if ($r['skipped'] !== null) {
                $md[] = sprintf('| %s | %s | skipped: %s |||||||', $s, $r['label'], md_cell($r['skipped']));
                continue;
            }
            $demoted = $r['demoted_writes'] === null ? '–' : ($r['demoted_exact'] ? '' : '≈') . $r['demoted_writes'];
            $lost = fmt($r['lost'], 'unverified');
            if (($r['lost_at_crash'] ?? 0) > 0) {
                $lost .= " ({$r['lost_at_crash']} at the crash)";
            }
            $md[] = sprintf('| %s | %s | %s | %s | %s | %s | %s | %s | %s |', $s, $r['label'], fmt($r['acked']),
                ($r['lost_preventable'] ?? 0) > 0 ? "**$lost**" : $lost, $demoted, fmt($r['longest_gap_ms']),
                fmt($r['resumed_ms'], 'never'), fmt($r['errors']), fmt($r['recovered']));
        }
        if (isset($results[$s]['facts']['error'])) {
            $md[] = sprintf('| %s | (%s) ||||||||', $s, $results[$s]['facts']['error']);
        }
    }
    $md[] = '';
    $md[] = "Sentinel's side of each failover, ms after the fault (sentinel-loss: after the SENTINEL FAILOVER "
        . 'sent 1 s after the preferred sentinel died):';
    $md[] = '';
    $md[] = '| scenario | fault took effect | first +try-failover | promotion | first +switch-master | old master demoted | replicas in sync before | excused window |';
    $md[] = '|---|--:|--:|--:|--:|--:|:-:|--:|';
    foreach ($fault as $s) {
        $f = $results[$s]['facts'];
        if (!array_key_exists('fault_to_promotion_ms', $f)) {
            continue;
        }
        $excused = '–';
        if (in_array($s, ['kill', 'freeze'], true)) {
            $excused = $f['excused_window_ms'] === null ? 'none (no sync point)'
                : sprintf('%s ms from %s', fmt($f['excused_window_ms']), fmt($f['sync_point_ms']));
        }
        $md[] = sprintf('| %s | %s | %s | %s | %s | %s | %s | %s |', $s, fmt($f['fault_took_effect_ms'], '–'), fmt($f['fault_to_first_try_failover_ms']),
            fmt($f['fault_to_promotion_ms']), fmt($f['fault_to_switch_master_ms']),
            fmt($f['fault_to_old_master_demoted_ms'], 'after the run'),
            fmt($f['replicas_in_sync_before_fault']), $excused);
    }
    $md[] = '';
}

if (in_array('no-sentinels', $scenarios, true) && !isset($results['no-sentinels']['facts']['error'])) {
    $f = $results['no-sentinels']['facts'];
    $md[] = '### Every sentinel down (no-sentinels)';
    $md[] = '';
    $md[] = sprintf('All sentinels killed at 0; the master stays up. At %s ms the master stalls for 1 s (SIGSTOP, '
        . 'SIGCONT): every client sees a timeout, and those that resolve again have nobody to ask.',
        fmt($f['stall_ms']));
    $md[] = '';
    $md[] = '| path | acked, sentinels down | errors then | errors from the stall on | most common of them | recovered |';
    $md[] = '|---|--:|--:|--:|---|:-:|';
    foreach ($results['no-sentinels']['records'] as $r) {
        if ($r['skipped'] !== null) {
            $md[] = sprintf('| %s | skipped: %s |||||', $r['label'], md_cell($r['skipped']));
            continue;
        }
        $mc = $r['most_common_error_after_stall'] ?? null;
        $md[] = sprintf('| %s | %s | %s | %s | %s | %s |', $r['label'], fmt($r['acked_sentinels_down_before_stall'] ?? null),
            fmt($r['errors_sentinels_down_before_stall'] ?? null), fmt($r['errors_after_stall'] ?? null),
            $mc ? md_cell(sprintf('%s (x%d)', clip($mc['kind'], 110), $mc['count'])) : 'none',
            fmt($r['recovered']));
    }
    $md[] = '';
}

if (in_array('unknown-name', $scenarios, true) && !isset($results['unknown-name']['facts']['error'])) {
    $md[] = '### A master name no sentinel knows (unknown-name)';
    $md[] = '';
    $md[] = sprintf('| path | first error after (ms) | error | acked | hung over %s ms |',
        fmt($results['unknown-name']['facts']['window_ms']));
    $md[] = '|---|--:|---|--:|:-:|';
    foreach ($results['unknown-name']['records'] as $r) {
        if ($r['skipped'] !== null) {
            $md[] = sprintf('| %s | %s ||||', $r['label'], md_cell($r['skipped']));
            continue;
        }
        $err = $r['first_error'] === null ? 'none' : clip($r['first_error'], 130);
        if (!empty($r['proxy_error'])) {
            $err .= ' (proxy log: ' . clip($r['proxy_error'], 90) . ')';
        }
        $md[] = sprintf('| %s | %s | %s | %s | %s |', $r['label'], fmt($r['time_to_first_error_ms'], 'never'),
            md_cell($err), fmt($r['acked']), $r['hung'] ? '**yes**' : 'no');
    }
    $md[] = '';
}

if ($steady) {
    $md[] = '### Sentinel traffic in steady state';
    $md[] = '';
    $md[] = sprintf('Each path alone for %s ms after its warm-up; the sentinels\' total_connections_received and '
        . 'total_commands_processed (summed over the 3 sentinels) less the background measured at rest '
        . '(%s commands/s, %s connections/s).', fmt($steady['records'][0]['window_ms'] ?? null),
        fmt($steady['facts']['background_sentinel_cmds_per_s']), fmt($steady['facts']['background_sentinel_conns_per_s']));
    $md[] = '';
    $md[] = '| path | writes/s | sentinel connections / 1000 writes | sentinel commands / 1000 writes | sentinel commands/s |';
    $md[] = '|---|--:|--:|--:|--:|';
    foreach (sort_paths(array_column($steady['records'], 'path')) as $p) {
        $r = array_values(array_filter($steady['records'], fn($x) => $x['path'] === $p))[0];
        if ($r['skipped'] !== null) {
            $md[] = sprintf('| %s | skipped: %s ||||', $r['label'], md_cell($r['skipped']));
            continue;
        }
        $md[] = sprintf('| %s | %s | %s | %s | %s |', $r['label'], fmt($r['writes_per_s']),
            fmt($r['sentinel_conns_per_1000_writes']), fmt($r['sentinel_cmds_per_1000_writes']),
            fmt($r['sentinel_cmds_per_s']));
    }
    $md[] = '';
}

$md[] = '### Correctness check (what CI fails on)';
$md[] = '';
if (!$failures && !$incomplete) {
    $md[] = sprintf('PASS: our paths (%s) lost no acknowledged write in %s and recovered in %s.',
        implode(', ', array_values(array_intersect(FO_OURS, $ran))) ?: 'none measured',
        implode('/', array_intersect(CHECK_LOSS, $scenarios)), implode('/', array_intersect(CHECK_RECOVERY, $scenarios)));
}
foreach ($failures as $f) {
    $md[] = "- FAIL: $f";
}
foreach ($incomplete as $f) {
    $md[] = "- INCOMPLETE: $f";
}
foreach ($notes as $n) {
    $md[] = "- note: $n";
}
$md[] = '';
$md[] = 'Columns: **acked** acknowledged writes; **lost** acknowledged writes missing from the final master '
    . '(pipelined EXISTS after recovery); **to a demoted master** writes the old master acknowledged after the '
    . 'promotion (exact where the client knows the node; ≈ behind a proxy: estimated as the lost ones); '
    . '**(N at the crash)** lost writes excused: acknowledged in the **excused window** (kill, freeze), from the '
    . 'sync point taken on the old master just before the fault (SET + WAIT: every earlier write was on every '
    . 'replica) to 5 ms after the fault command returned; any other lost write counts; '
    . '**longest gap** between two acknowledged writes from 1 s before the fault to the end; **resumed** first '
    . 'surviving write on the final master after the promotion, ms after the fault; **errors** every error the '
    . 'client saw (one per failed request or reconnect attempt); **recovered** surviving writes in the last second.';
if ($svgs) {
    $md[] = '';
    $md[] = 'Pictures: ' . implode(', ', array_map(fn($s, $f) => "[$s]($f)", array_keys($svgs), $svgs)) . '.';
}
$text = implode("\n", $md) . "\n";
file_put_contents("$out/results.md", $text);
echo $text;

if ($failures) {
    exit(1);
}
exit($incomplete ? 3 : 0);
