<?php
/*
 * One SVG per scenario, written directly (no gnuplot needed): a lane per
 * path on one shared time axis, acknowledged writes per 10 ms as a step
 * area (kept: on the final master; lost: missing from it, stacked in red),
 * the errors the client saw as ticks under the lane, and the fault,
 * promotion, Sentinel's first +switch-master (and thaw / stall / failover)
 * as vertical lines across every lane.
 */

declare(strict_types=1);

const SVG_W = 1150;
const SVG_LEFT = 300;
const SVG_RIGHT = 20;
const SVG_LANE_H = 58;
const SVG_LANE_GAP = 10;
const SVG_TOP = 106;
const SVG_BUCKET_US = 10000;

const SVG_KEPT = '#3b7dd8';
const SVG_LOST = '#d62728';
const SVG_ERR = '#6b6b6b';
const SVG_MARKERS = [
    'fault' => ['#000000', ''],
    'SENTINEL FAILOVER' => ['#000000', '6,3'],
    'promotion' => ['#8e44ad', '4,3'],
    'first +switch-master' => ['#e67e22', '4,3'],
    'thaw' => ['#16a085', '2,3'],
    'master stalled' => ['#16a085', '6,3'],
];

function svg_esc(string $s): string
{
    return htmlspecialchars($s, ENT_XML1 | ENT_QUOTES, 'UTF-8');
}

function svg_num(float $v): string
{
    return rtrim(rtrim(number_format($v, 1, '.', ''), '0'), '.');
}

/** A step area over the 10 ms buckets of one lane. */
function svg_step_area(array $buckets, int $from, callable $x, float $base, float $h, float $ymax,
                       string $color): string
{
    $d = sprintf('M%s %s', svg_num(SVG_LEFT), svg_num($base));
    $prevY = null;
    foreach ($buckets as $b => $n) {
        $y = svg_num($base - min($n, $ymax) / $ymax * $h);
        if ($y !== $prevY) {
            $d .= sprintf('H%sV%s', svg_num($x($from + $b * SVG_BUCKET_US)), $y);
            $prevY = $y;
        }
    }
    $d .= sprintf('H%sV%sZ', svg_num($x($from + count($buckets) * SVG_BUCKET_US)), svg_num($base));
    return sprintf('<path d="%s" fill="%s"/>', $d, $color);
}

/** * @param array $lanes   [['label' => ..., 'note' => ..., 'kept' => int[], 'lost' => int[], 'errors' => int[]]]
 * @param array $markers ['fault' => us, 'promotion' => us, ...] (null = absent)
 * @param int   $from    the left edge (us); $zero: the time shown as 0 (us)
 */
function svg_scenario(string $title, string $subtitle, array $lanes, array $markers, int $from, int $to,
                      int $zero, float $nominal, string $axis = 'seconds after the fault'): string
{
    $pw = SVG_W - SVG_LEFT - SVG_RIGHT;
    $span = max(1, $to - $from);
    $x = fn(int $t): float => SVG_LEFT + ($t - $from) / $span * $pw;
    $ymax = $nominal;
    foreach ($lanes as $l) {
        foreach ($l['kept'] as $b => $k) {
            $ymax = max($ymax, $k + ($l['lost'][$b] ?? 0));
        }
    }
    $ymax = min($ymax, 3 * $nominal);
    $height = SVG_TOP + count($lanes) * (SVG_LANE_H + SVG_LANE_GAP) + 50;
    $o = [];
    $o[] = sprintf('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
        . 'font-family="Helvetica, Arial, sans-serif" font-size="12">', SVG_W, $height, SVG_W, $height);
    $o[] = sprintf('<rect width="%d" height="%d" fill="#ffffff"/>', SVG_W, $height);
    $o[] = sprintf('<text x="10" y="22" font-size="16" font-weight="bold">%s</text>', svg_esc($title));
    $o[] = sprintf('<text x="10" y="40" fill="#444">%s</text>', svg_esc($subtitle));

    // Legend.
    $lx = 10;
    $legend = [['rect', SVG_KEPT, 'acknowledged, on the final master'],
               ['rect', SVG_LOST, 'acknowledged, LOST'],
               ['tick', SVG_ERR, 'errors seen']];
    foreach ($legend as [$kind, $color, $text]) {
        $o[] = $kind === 'rect'
            ? sprintf('<rect x="%d" y="50" width="12" height="10" fill="%s"/>', $lx, $color)
            : sprintf('<rect x="%d" y="56" width="12" height="4" fill="%s"/>', $lx, $color);
        $o[] = sprintf('<text x="%d" y="59">%s</text>', $lx + 16, svg_esc($text));
        $lx += 28 + (int)(strlen($text) * 7);
    }
    foreach (SVG_MARKERS as $name => [$color, $dash]) {
        if (!array_key_exists($name, $markers) || $markers[$name] === null) {
            continue;
        }
        $o[] = sprintf('<line x1="%d" y1="55" x2="%d" y2="55" stroke="%s" stroke-width="2"%s/>', $lx, $lx + 14,
            $color, $dash ? " stroke-dasharray=\"$dash\"" : '');
        $o[] = sprintf('<text x="%d" y="59">%s</text>', $lx + 18, svg_esc($name));
        $lx += 34 + (int)(strlen($name) * 7);
    }

    // Time axis: grid and ticks.
    $secs = $span / 1e6;
    $step = $secs > 24 ? 5 : ($secs > 12 ? 2 : 1);
    $bottom = SVG_TOP + count($lanes) * (SVG_LANE_H + SVG_LANE_GAP);
    for ($s = (int)ceil(($from - $zero) / 1e6 / $step) * $step; $s * 1e6 + $zero <= $to; $s += $step) {
        $tx = $x((int)($zero + $s * 1e6));
        $o[] = sprintf('<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#e4e4e4"/>', svg_num($tx), SVG_TOP - 6,
            svg_num($tx), $bottom);
        $o[] = sprintf('<text x="%s" y="%d" text-anchor="middle">%s</text>', svg_num($tx), $bottom + 16,
            $s === 0 ? '0' : sprintf('%+d s', $s));
    }
    $o[] = sprintf('<text x="%d" y="%d" text-anchor="middle" fill="#444">%s (writes per 10 ms; full lane = %s)</text>',
        SVG_LEFT + intdiv($pw, 2), $bottom + 34, svg_esc($axis), svg_num($ymax));

    // Lanes.
    foreach ($lanes as $i => $l) {
        $top = SVG_TOP + $i * (SVG_LANE_H + SVG_LANE_GAP);
        $base = $top + SVG_LANE_H - 10;
        $h = SVG_LANE_H - 16;
        $o[] = sprintf('<rect x="%d" y="%d" width="%d" height="%d" fill="#f7f7f7"/>', SVG_LEFT, $top, $pw,
            SVG_LANE_H - 8);
        $o[] = sprintf('<text x="%d" y="%d" text-anchor="end" font-weight="bold">%s</text>', SVG_LEFT - 8,
            $top + 20, svg_esc($l['label']));
        $o[] = sprintf('<text x="%d" y="%d" text-anchor="end" fill="#444" font-size="11">%s</text>',
            SVG_LEFT - 8, $top + 36, svg_esc($l['note']));
        if (!empty($l['skipped'])) {
            $o[] = sprintf('<text x="%d" y="%d" fill="#888">%s</text>', SVG_LEFT + 10, $top + 28,
                svg_esc('skipped: ' . $l['skipped']));
            continue;
        }
        // Kept and lost writes as step areas: all acknowledged writes in red
        // underneath, the kept ones in blue over them, so red shows the lost.
        $total = [];
        foreach ($l['kept'] as $b => $k) {
            $total[$b] = $k + ($l['lost'][$b] ?? 0);
        }
        if (array_sum($l['lost']) > 0) {
            $o[] = svg_step_area($total, $from, $x, $base, $h, $ymax, SVG_LOST);
        }
        $o[] = svg_step_area($l['kept'], $from, $x, $base, $h, $ymax, SVG_KEPT);
        $run = null;
        $errs = $l['errors'];
        $errs[] = 0;
        foreach ($errs as $b => $n) {
            if ($n > 0 && $run === null) {
                $run = $b;
            } elseif ($n === 0 && $run !== null) {
                $x0 = $x($from + $run * SVG_BUCKET_US);
                $o[] = sprintf('<rect x="%s" y="%d" width="%s" height="4" fill="%s"/>', svg_num($x0),
                    $base + 2, svg_num(max(1.0, $x($from + $b * SVG_BUCKET_US) - $x0)), SVG_ERR);
                $run = null;
            }
        }
    }

    // Markers across every lane, labels on three rows in turn.
    $row = 0;
    $ms = array_filter($markers, fn($t) => $t !== null);
    asort($ms);
    foreach ($ms as $name => $t) {
        if (!isset(SVG_MARKERS[$name]) || $t < $from || $t > $to) {
            continue;
        }
        [$color, $dash] = SVG_MARKERS[$name];
        $mx = svg_num($x($t));
        $o[] = sprintf('<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s" stroke-width="1.5"%s/>', $mx,
            SVG_TOP - 8, $mx, $bottom, $color, $dash ? " stroke-dasharray=\"$dash\"" : '');
        $anchor = $x($t) > SVG_W - 180 ? ' text-anchor="end"' : '';
        $o[] = sprintf('<text x="%s" y="%d" fill="%s" font-size="11"%s>%s %s ms</text>', $mx,
            76 + 11 * ($row % 3), $color, $anchor, svg_esc($name), svg_num(round(($t - $zero) / 1000)));
        $row++;
    }
    $o[] = '</svg>';
    return implode("\n", $o) . "\n";
}
