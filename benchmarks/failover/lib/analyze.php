<?php
/*
 * Logs -> records: reads one scenario's directory (meta, stamps, observer
 * log, writer logs and their .missing files) and computes, per path, the
 * measures the report shows. Every time is CLOCK_MONOTONIC microseconds in
 * the files and milliseconds relative to the fault in the records.
 */

declare(strict_types=1);

const FO_PATH_ORDER = ['naive', 'haproxy', 'phpredis', 'ours-c', 'sentinel-proxy', 'php-ext'];
const FO_OURS = ['ours-c', 'sentinel-proxy', 'php-ext'];
const FO_LABELS = [
    'naive' => 'naive: fixed master address',
    'haproxy' => 'HAProxy role:master recipe',
    'phpredis' => 'phpredis RedisSentinel per request',
    'ours-c' => 'ours: C client (libsentinel follower)',
    'sentinel-proxy' => 'ours: sentinel-proxy',
    'php-ext' => 'ours: PHP ext + Magento bindings',
];
/* Paths whose writer cannot know which node acknowledged (behind a proxy). */
const FO_PROXIED = ['haproxy', 'sentinel-proxy'];
const FO_FAILOVER_SCENARIOS = ['kill', 'freeze', 'manual', 'sentinel-loss'];

/* ========================================================================
 * Reading
 * ======================================================================== */

function fo_read_kv(string $file): array
{
    $out = [];
    if (!is_file($file)) {
        return $out;
    }
    foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
        $i = strpos($line, '=');
        if ($i !== false) {
            $out[substr($line, 0, $i)] = substr($line, $i + 1);
        }
    }
    return $out;
}

function fo_read_stamp(string $file): ?int
{
    if (!is_file($file)) {
        return null;
    }
    $v = trim((string)file_get_contents($file));
    return $v === '' ? null : (int)$v;
}

/**
 * A writer log: acks as three packed arrays (t, port, seq), errors, notes,
 * header values and the start/end lines.
 */
function fo_read_writer(string $file): array
{
    $w = ['t' => [], 'port' => [], 'seq' => [], 'errors' => [], 'notes' => [], 'header' => [],
          'start' => null, 'end' => null];
    $f = fopen($file, 'r');
    if ($f === false) {
        return $w;
    }
    while (($line = fgets($f)) !== false) {
        $line = rtrim($line, "\r\n");
        switch ($line[0] ?? '') {
            case 'A':
                [, $t, $port, $seq] = explode(' ', $line, 4);
                $w['t'][] = (int)$t;
                $w['port'][] = (int)$port;
                $w['seq'][] = (int)$seq;
                break;
            case 'E':
                $p = explode(' ', $line, 5);
                $w['errors'][] = ['t' => (int)$p[1], 'port' => (int)$p[2], 'seq' => (int)$p[3],
                                  'msg' => $p[4] ?? ''];
                break;
            case 'N':
                $p = explode(' ', $line, 3);
                $w['notes'][] = ['t' => (int)$p[1], 'text' => $p[2] ?? ''];
                break;
            case 'S':
                $w['start'] = (int)substr($line, 2);
                break;
            case 'X':
                $w['end'] = (int)explode(' ', $line)[1];
                break;
            case '#':
                $i = strpos($line, '=');
                if ($i !== false) {
                    $w['header'][trim(substr($line, 1, $i - 1))] = substr($line, $i + 1);
                }
                break;
        }
    }
    fclose($f);
    return $w;
}

/** The missing sequence numbers (as keys), or null when not verified. */
function fo_read_missing(string $file): ?array
{
    if (!is_file($file)) {
        return null;
    }
    $out = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
        if (str_starts_with($line, 'M ')) {
            $out[(int)substr($line, 2)] = true;
        }
    }
    return $out;
}

function fo_read_observer(string $file): array
{
    $o = ['roles' => [], 'events' => []];
    if (!is_file($file)) {
        return $o;
    }
    foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
        $p = explode(' ', $line, 5);
        if ($p[0] === 'R' && count($p) >= 4) {
            $o['roles'][] = ['t' => (int)$p[1], 'port' => (int)$p[2], 'role' => $p[3]];
        } elseif ($p[0] === 'V' && count($p) >= 4) {
            $o['events'][] = ['t' => (int)$p[1], 'sentinel' => (int)$p[2], 'channel' => $p[3],
                              'payload' => $p[4] ?? ''];
        }
    }
    return $o;
}

/* ========================================================================
 * The scenario's timeline
 * ======================================================================== */

/**
 * The promotion: the first node other than the old master to answer ROLE
 * master after the failover began. Sentinel promotes with MULTI, REPLICAOF
 * NO ONE, CONFIG REWRITE, CLIENT KILL TYPE normal, EXEC: the observer's link
 * drops at that moment and the next ROLE (5 ms later) says master, so a
 * drop right before the first "master" is the promotion itself.
 */
function fo_promotion(array $obs, int $old, int $since): ?array
{
    $lastDown = [];
    foreach ($obs['roles'] as $r) {
        if ($r['t'] < $since) {
            continue;
        }
        if ($r['role'] === 'down') {
            $lastDown[$r['port']] = $r['t'];
        } elseif ($r['role'] === 'master' && $r['port'] !== $old) {
            $t = $r['t'];
            if (isset($lastDown[$r['port']]) && $t - $lastDown[$r['port']] < 200000) {
                $t = $lastDown[$r['port']];
            }
            return ['t' => $t, 'port' => $r['port']];
        }
    }
    return null;
}

function fo_first_event(array $obs, string $channel, int $since): ?int
{
    foreach ($obs['events'] as $e) {
        if ($e['t'] >= $since && $e['channel'] === $channel) {
            return $e['t'];
        }
    }
    return null;
}

/** When the old master first answered ROLE slave after $since. */
function fo_demotion(array $obs, int $old, int $since): ?int
{
    foreach ($obs['roles'] as $r) {
        if ($r['t'] >= $since && $r['port'] === $old && $r['role'] === 'slave') {
            return $r['t'];
        }
    }
    return null;
}

/**
 * When a kill or a freeze hit the old master: its link to the observer
 * dropped (kill), or the first ROLE it never answered went out (freeze).
 */
function fo_fault_effect(array $obs, string $scenario, int $old, int $fault): ?int
{
    $want = ['kill' => 'down', 'freeze' => 'unresponsive'][$scenario] ?? null;
    if ($want === null) {
        return null;
    }
    foreach ($obs['roles'] as $r) {
        if ($r['t'] >= $fault - 10000 && $r['port'] === $old && $r['role'] === $want) {
            return $r['t'];
        }
    }
    return null;
}

/**
 * Whether a lost write went down with a crashed or frozen master: Redis
 * replicates asynchronously, so a master stopped between answering a client
 * and feeding its replicas takes that write with it; no client can prevent
 * that (DESIGN.md "What nothing lost means"). Which writes those can be is
 * measured, as in tests/proxy/faults.sh: just before the fault the driver
 * took a sync point on the old master (SET, then WAIT until every replica
 * had it, sync.t), so everything acknowledged before it is on the replicas.
 * Only a write acknowledged from the sync point to 5 ms after the fault
 * command returned (fault-end.t) is excused, and only by the old master
 * where the writer knows the node (behind a proxy it does not). Without a
 * sync point nothing is excused: every lost write counts.
 */
function fo_lost_at_crash(array $tl, bool $portKnown, int $t, int $port): bool
{
    $scenario = $tl['meta']['scenario'] ?? '';
    if ($scenario !== 'kill' && $scenario !== 'freeze') {
        return false;
    }
    if ($tl['sync'] === null || $tl['fault_end'] === null) {
        return false;
    }
    if ($t < $tl['sync'] || $t > $tl['fault_end'] + 5000) {
        return false;
    }
    return !$portKnown || $port === $tl['old_port'];
}

function fo_ms(?int $us): ?float
{
    return $us === null ? null : round($us / 1000, 1);
}

/* ========================================================================
 * Per path
 * ======================================================================== */

/** "READONLY You can't write..." and "connect 127.0.0.1:41234: ..." -> a kind. */
function fo_error_kind(string $msg): string
{
    $k = preg_replace('/\d+(\.\d+)*(:\d+)?/', 'N', $msg);
    return substr((string)$k, 0, 120);
}

function fo_error_summary(array $errors, int $from, int $to): array
{
    $kinds = [];
    $n = 0;
    foreach ($errors as $e) {
        if ($e['t'] < $from || $e['t'] > $to) {
            continue;
        }
        $n++;
        $k = fo_error_kind($e['msg']);
        $kinds[$k] = ($kinds[$k] ?? 0) + 1;
    }
    arsort($kinds);
    $list = [];
    foreach (array_slice($kinds, 0, 4, true) as $k => $c) {
        $list[] = ['kind' => $k, 'count' => $c];
    }
    return [$n, $list];
}

/** Longest interval with no ack inside [$from, $to], the edges included. */
function fo_longest_gap(array $t, int $from, int $to): array
{
    $prev = $from;
    $best = 0;
    $at = $from;
    foreach ($t as $x) {
        if ($x < $from) {
            continue;
        }
        if ($x > $to) {
            break;
        }
        if ($x - $prev > $best) {
            $best = $x - $prev;
            $at = $prev;
        }
        $prev = $x;
    }
    if ($to - $prev > $best) {
        $best = $to - $prev;
        $at = $prev;
    }
    return [$best, $at];
}

/** Counters the writer printed at the end ("# pauses=1"...). */
function fo_writer_counters(array $w): array
{
    $out = [];
    foreach ($w['header'] as $k => $v) {
        if (is_numeric($v) && !in_array($k, ['interval_us'], true)) {
            $out[$k] = 0 + $v;
        }
    }
    return $out;
}

function fo_base_record(string $scenario, string $path): array
{
    return ['scenario' => $scenario, 'path' => $path, 'label' => FO_LABELS[$path] ?? $path,
            'ours' => in_array($path, FO_OURS, true), 'skipped' => null];
}

/**
 * One path of a fault scenario (kill, freeze, manual, sentinel-loss,
 * no-sentinels).
 */
function fo_analyze_path(string $dir, string $scenario, string $path, array $tl): array
{
    $rec = fo_base_record($scenario, $path);
    $w = fo_read_writer("$dir/$path.log");
    $missing = fo_read_missing("$dir/$path.log.missing");
    $fault = $tl['fault'];
    $stop = $tl['stop'];
    $n = count($w['t']);
    $portKnown = !in_array($path, FO_PROXIED, true);

    $rec['acked'] = $n;
    $rec['verified'] = $missing !== null;
    $rec['lost'] = $missing === null ? null : count($missing);
    $lostAfter = 0;
    $atCrash = 0;
    $ackedAfter = 0;
    $demoted = 0;
    $resumed = null;
    $recentGood = 0;
    $resumeFrom = $tl['promotion'] ?? $tl['stall'] ?? $fault;
    for ($i = 0; $i < $n; $i++) {
        $t = $w['t'][$i];
        $present = $missing === null || !isset($missing[$w['seq'][$i]]);
        // A resumption counts only on the final master.
        $good = $present && !($portKnown && $tl['final_port'] !== null
            && $w['port'][$i] !== $tl['final_port'] && $t > $resumeFrom);
        if ($t >= $fault) {
            $ackedAfter++;
            if (!$present) {
                $lostAfter++;
            }
        }
        if (!$present && fo_lost_at_crash($tl, $portKnown, $t, $w['port'][$i])) {
            $atCrash++;
        }
        if ($tl['promotion'] !== null && $portKnown && $t > $tl['promotion']
            && $w['port'][$i] === $tl['old_port']) {
            $demoted++;
        }
        if ($resumed === null && $good && $t > $resumeFrom && $t > $fault) {
            $resumed = $t;
        }
        if ($good && $t >= $stop - 1000000 && $t <= $stop) {
            $recentGood++;
        }
    }
    $rec['acked_after_fault'] = $ackedAfter;
    $rec['lost_after_fault'] = $missing === null ? null : $lostAfter;
    $rec['lost_at_crash'] = $missing === null ? null : $atCrash;
    $rec['lost_preventable'] = $missing === null ? null : $rec['lost'] - $atCrash;
    if ($tl['promotion'] === null) {
        $rec['demoted_writes'] = in_array($scenario, FO_FAILOVER_SCENARIOS, true) ? null : 0;
        $rec['demoted_exact'] = true;
    } elseif ($portKnown) {
        $rec['demoted_writes'] = $demoted;
        $rec['demoted_exact'] = true;
    } else {
        // Behind a proxy the writer cannot tell which node acked: every
        // acknowledged write missing from the final master is counted.
        $rec['demoted_writes'] = $missing === null ? null : $rec['lost'] - $atCrash;
        $rec['demoted_exact'] = false;
    }
    [$gap, $gapAt] = fo_longest_gap($w['t'], $fault - 1000000, $stop);
    $rec['longest_gap_ms'] = fo_ms($gap);
    $rec['gap_start_ms'] = fo_ms($gapAt - $fault);
    // sentinel-loss: after the SENTINEL FAILOVER, like Sentinel's own timeline.
    $rec['resumed_ms'] = $resumed === null ? null : fo_ms($resumed - $tl['failover']);
    $rec['recovered'] = $recentGood > 0;
    [$rec['errors'], $rec['error_kinds']] = fo_error_summary($w['errors'], $fault - 1000000, $stop);
    $rec['errors_before_fault'] = fo_error_summary($w['errors'], 0, $fault - 1000000)[0];
    $rec['first_error_after_fault'] = null;
    foreach ($w['errors'] as $e) {
        if ($e['t'] >= $fault) {
            $rec['first_error_after_fault'] = ['ms' => fo_ms($e['t'] - $fault), 'msg' => $e['msg']];
            break;
        }
    }
    if ($scenario === 'no-sentinels' && $tl['stall'] !== null) {
        $during = 0;
        foreach ($w['t'] as $t) {
            if ($t >= $fault && $t < $tl['stall']) {
                $during++;
            }
        }
        $rec['acked_sentinels_down_before_stall'] = $during;
        $rec['errors_sentinels_down_before_stall'] = fo_error_summary($w['errors'], $fault, $tl['stall'])[0];
        [$rec['errors_after_stall'], $kinds] = fo_error_summary($w['errors'], $tl['stall'], $stop);
        $rec['most_common_error_after_stall'] = $kinds[0] ?? null;
        $rec['first_error_after_stall'] = null;
        foreach ($w['errors'] as $e) {
            if ($e['t'] >= $tl['stall']) {
                $rec['first_error_after_stall'] = ['ms' => fo_ms($e['t'] - $tl['stall']), 'msg' => $e['msg']];
                break;
            }
        }
    }
    $rec['client'] = fo_writer_counters($w);
    foreach ($w['notes'] as $note) {
        if (preg_match('/^resumed on \S+ after (\d+) ms paused/', $note['text'], $m)) {
            $rec['client']['paused_ms'] = (int)$m[1];
        }
    }
    return $rec;
}

/** The series the chart draws: acks kept / lost and errors per 10 ms. */
function fo_chart_series(string $dir, string $path, int $from, int $to, ?int $finalPort): array
{
    $w = fo_read_writer("$dir/$path.log");
    $missing = fo_read_missing("$dir/$path.log.missing") ?? [];
    $nb = max(1, intdiv($to - $from, 10000) + 1);
    $kept = array_fill(0, $nb, 0);
    $lost = array_fill(0, $nb, 0);
    $err = array_fill(0, $nb, 0);
    foreach ($w['t'] as $i => $t) {
        if ($t < $from || $t > $to) {
            continue;
        }
        $b = intdiv($t - $from, 10000);
        if (isset($missing[$w['seq'][$i]])) {
            $lost[$b]++;
        } else {
            $kept[$b]++;
        }
    }
    foreach ($w['errors'] as $e) {
        if ($e['t'] >= $from && $e['t'] <= $to) {
            $err[intdiv($e['t'] - $from, 10000)]++;
        }
    }
    return ['kept' => $kept, 'lost' => $lost, 'errors' => $err];
}

/* ========================================================================
 * Scenarios
 * ======================================================================== */

/** The timeline of a fault scenario, in CLOCK_MONOTONIC microseconds. */
function fo_timeline(string $dir): ?array
{
    $meta = fo_read_kv("$dir/meta");
    $fault = fo_read_stamp("$dir/fault.t");
    if ($fault === null || !isset($meta['stop_t'])) {
        return null;
    }
    $obs = fo_read_observer("$dir/observer.log");
    $old = (int)($meta['old_port'] ?? 0);
    $failover = fo_read_stamp("$dir/failover.t") ?? $fault;
    $scenario = $meta['scenario'] ?? basename($dir);
    $isFailover = in_array($scenario, FO_FAILOVER_SCENARIOS, true);
    $prom = $isFailover ? fo_promotion($obs, $old, $failover) : null;
    $switch = $isFailover ? fo_first_event($obs, '+switch-master', $failover) : null;
    $final = isset($meta['final_port']) && ctype_digit($meta['final_port']) ? (int)$meta['final_port'] : null;
    return [
        'meta' => $meta,
        'fault' => $fault,
        'failover' => $failover,
        // freeze: SIGCONT; no-sentinels: the end of the master's stall.
        'thaw' => fo_read_stamp("$dir/thaw.t") ?? fo_read_stamp("$dir/stall-end.t"),
        'stall' => fo_read_stamp("$dir/stall.t"),
        // kill, freeze: the sync point before the fault and the fault
        // command's end (lib/common.sh fo_sync_fault).
        'sync' => fo_read_stamp("$dir/sync.t"),
        'fault_end' => fo_read_stamp("$dir/fault-end.t"),
        'stop' => (int)$meta['stop_t'],
        'old_port' => $old,
        'final_port' => $final,
        'promotion' => $prom['t'] ?? null,
        'promoted_port' => $prom['port'] ?? null,
        'switch' => $switch,
        'first_failover_event' => $isFailover ? fo_first_event($obs, '+try-failover', $failover) : null,
        'demotion' => $isFailover ? fo_demotion($obs, $old, $failover) : null,
        'effect' => fo_fault_effect($obs, $scenario, $old, $fault),
    ];
}

/** Scenario-level facts, in ms relative to the fault. */
function fo_scenario_facts(string $scenario, array $tl): array
{
    $rel = fn(?int $t) => $t === null ? null : fo_ms($t - $tl['failover']);
    return [
        'scenario' => $scenario,
        'replicas_in_sync_before_fault' => ($tl['meta']['synced_before_fault'] ?? '') === 'yes',
        'old_port' => $tl['old_port'],
        'final_port' => $tl['final_port'],
        'fault_to_first_try_failover_ms' => $rel($tl['first_failover_event']),
        'fault_to_promotion_ms' => $rel($tl['promotion']),
        'fault_to_switch_master_ms' => $rel($tl['switch']),
        'fault_to_old_master_demoted_ms' => $rel($tl['demotion']),
        'failover_after_fault_ms' => fo_ms($tl['failover'] - $tl['fault']),
        'fault_took_effect_ms' => $tl['effect'] === null ? null : fo_ms($tl['effect'] - $tl['fault']),
        'thaw_ms' => $tl['thaw'] === null ? null : fo_ms($tl['thaw'] - $tl['fault']),
        'stall_ms' => $tl['stall'] === null ? null : fo_ms($tl['stall'] - $tl['fault']),
        'stop_ms' => fo_ms($tl['stop'] - $tl['fault']),
        // kill, freeze: where lost writes may be excused (fo_lost_at_crash).
        'sync_point_ms' => $tl['sync'] === null ? null : fo_ms($tl['sync'] - $tl['fault']),
        'excused_window_ms' => $tl['sync'] === null || $tl['fault_end'] === null ? null
            : fo_ms($tl['fault_end'] + 5000 - $tl['sync']),
        'verified' => ($tl['meta']['verified'] ?? '') === 'yes',
    ];
}

function fo_analyze_fault_scenario(string $dir, string $scenario, array $paths): array
{
    $tl = fo_timeline($dir);
    if ($tl === null) {
        return ['facts' => ['scenario' => $scenario, 'error' => 'the scenario did not complete'],
                'records' => [], 'timeline' => null];
    }
    $facts = fo_scenario_facts($scenario, $tl);
    if (in_array($scenario, FO_FAILOVER_SCENARIOS, true) && ($tl['meta']['new_port'] ?? 'none') === 'none') {
        // Not a client's doing: the topology never switched.
        $facts['error'] = 'Sentinel did not complete the failover within the wait';
    }
    $records = [];
    foreach ($paths as $p) {
        if (is_file("$dir/$p.skipped")) {
            $r = fo_base_record($scenario, $p);
            $r['skipped'] = trim((string)file_get_contents("$dir/$p.skipped"));
            $records[] = $r;
        } elseif (is_file("$dir/$p.log")) {
            $r = fo_analyze_path($dir, $scenario, $p, $tl);
            $r['fault_to_switch_master_ms'] = $facts['fault_to_switch_master_ms'];
            $r['fault_to_promotion_ms'] = $facts['fault_to_promotion_ms'];
            $records[] = $r;
        } else {
            // Enabled but silent: the writer never started. Never a pass.
            $r = fo_base_record($scenario, $p);
            $r['no_log'] = true;
            $r['skipped'] = 'no writer log: the writer did not start';
            $records[] = $r;
        }
    }
    return ['facts' => $facts, 'records' => $records, 'timeline' => $tl];
}

function fo_analyze_unknown_name(string $dir, array $paths): array
{
    $meta = fo_read_kv("$dir/meta");
    $start = (int)($meta['start_t'] ?? 0);
    $stop = (int)($meta['stop_t'] ?? 0);
    $records = [];
    foreach ($paths as $p) {
        $r = fo_base_record('unknown-name', $p);
        if (is_file("$dir/$p.skipped")) {
            $r['skipped'] = trim((string)file_get_contents("$dir/$p.skipped"));
            $records[] = $r;
            continue;
        }
        if (!is_file("$dir/$p.log")) {
            continue;
        }
        $w = fo_read_writer("$dir/$p.log");
        $r['acked'] = count($w['t']);
        $r['errors'] = count($w['errors']);
        $first = $w['errors'][0] ?? null;
        // From the writer's own loop start: PHP's start-up is not the path's doing.
        $r['time_to_first_error_ms'] = $first ? fo_ms($first['t'] - ($w['start'] ?? $start)) : null;
        $r['first_error'] = $first['msg'] ?? null;
        // No error and no ack over the whole window: the request hung.
        $r['hung'] = $first === null && $r['acked'] === 0;
        [, $r['error_kinds']] = fo_error_summary($w['errors'], 0, PHP_INT_MAX);
        $r['window_ms'] = fo_ms($stop - $start);
        if ($p === 'sentinel-proxy') {
            $r['proxy_status'] = $meta['proxy_status'] ?? null;
            $r['proxy_exit_ms'] = isset($meta['proxy_exit_t']) ? fo_ms((int)$meta['proxy_exit_t'] - $start) : null;
            $log = @file("$dir/sentinel-proxy.out", FILE_IGNORE_NEW_LINES) ?: [];
            foreach ($log as $line) {
                if (str_contains($line, 'error')) {
                    $r['proxy_error'] = preg_replace('/^\S+ \S+ /', '', $line);
                    break;
                }
            }
        }
        $records[] = $r;
    }
    return ['facts' => ['scenario' => 'unknown-name', 'wrong_name' => $meta['wrong_name'] ?? null,
                        'window_ms' => fo_ms($stop - $start)],
            'records' => $records, 'timeline' => ['start' => $start, 'stop' => $stop]];
}

/** Steady state: sentinel connections and commands per 1000 writes, per path. */
function fo_analyze_steady(string $dir, array $paths): array
{
    $window = function (string $f): ?array {
        if (!is_file($f)) {
            return null;
        }
        $v = preg_split('/\s+/', trim((string)file_get_contents($f)));
        if (count($v) < 8) {
            return null;
        }
        return ['t0' => (int)$v[0], 'conns0' => (int)$v[1], 'cmds0' => (int)$v[2], 'up0' => (int)$v[3],
                't1' => (int)$v[4], 'conns1' => (int)$v[5], 'cmds1' => (int)$v[6], 'up1' => (int)$v[7]];
    };
    $restRate = ['conns' => 0.0, 'cmds' => 0.0];
    $rests = array_filter([$window("$dir/rest-before.txt"), $window("$dir/rest-after.txt")]);
    foreach ($rests as $w) {
        $dt = max(1, $w['t1'] - $w['t0']);
        $restRate['conns'] += ($w['conns1'] - $w['conns0']) / $dt / count($rests);
        $restRate['cmds'] += ($w['cmds1'] - $w['cmds0']) / $dt / count($rests);
    }
    $records = [];
    foreach ($paths as $p) {
        $r = fo_base_record('steady', $p);
        if (is_file("$dir/$p.skipped")) {
            $r['skipped'] = trim((string)file_get_contents("$dir/$p.skipped"));
            $records[] = $r;
            continue;
        }
        $w = $window("$dir/$p.txt");
        if ($w === null) {
            continue;
        }
        $log = fo_read_writer("$dir/$p.log");
        $acks = 0;
        foreach ($log['t'] as $t) {
            if ($t >= $w['t0'] && $t <= $w['t1']) {
                $acks++;
            }
        }
        $dt = max(1, $w['t1'] - $w['t0']);
        $conns = ($w['conns1'] - $w['conns0']) - $restRate['conns'] * $dt;
        $cmds = ($w['cmds1'] - $w['cmds0']) - $restRate['cmds'] * $dt;
        $r['window_ms'] = fo_ms($dt);
        $r['writes'] = $acks;
        $r['writes_per_s'] = round($acks / ($dt / 1e6), 1);
        $r['sentinel_conns'] = round(max(0.0, $conns), 1);
        $r['sentinel_cmds'] = round(max(0.0, $cmds), 1);
        $r['sentinel_conns_per_1000_writes'] = $acks ? round(max(0.0, $conns) * 1000 / $acks, 2) : null;
        $r['sentinel_cmds_per_1000_writes'] = $acks ? round(max(0.0, $cmds) * 1000 / $acks, 2) : null;
        $r['sentinel_cmds_per_s'] = round(max(0.0, $cmds) / ($dt / 1e6), 2);
        $r['sentinels_up'] = min($w['up0'], $w['up1']);
        $r['errors'] = count($log['errors']);
        $records[] = $r;
    }
    return ['facts' => ['scenario' => 'steady',
                        'background_sentinel_cmds_per_s' => round($restRate['cmds'] * 1e6, 2),
                        'background_sentinel_conns_per_s' => round($restRate['conns'] * 1e6, 2)],
            'records' => $records, 'timeline' => null];
}
