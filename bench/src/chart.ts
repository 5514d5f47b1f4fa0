/**
 * Draws the ratios against raw ws as an SVG bar chart, by hand (no dependencies): one group of
 * bars per measure, one bar per peer, a line at 1.0 (raw ws) and a dashed line at each target,
 * and a whisker over each bar from the lowest to the highest repetition when there are several.
 */

export interface ChartBar {
  label: string;
  color: string;
  /** The ratio; NaN when the run failed (drawn as "n/a"). */
  value: number;
  /** The lowest and highest ratio of a repetition (a whisker). */
  min?: number;
  max?: number;
}

export interface ChartGroup {
  /** The measure; what follows its first comma (the line: `paced, Date`) goes on a line of its own. */
  label: string;
  note: string;
  target?: { op: '>=' | '<='; value: number };
  bars: ChartBar[];
}

export interface ChartOptions {
  title: string;
  subtitle: string;
  groups: ChartGroup[];
}

const MIN_WIDTH = 960;
/** Room for one group of bars and its three lines of labels. */
const GROUP_WIDTH = 136;
const HEIGHT = 520;
const MARGIN = { top: 78, right: 24, bottom: 124, left: 56 };
/** Ratios above this are clipped (and labelled with their value), so one outlier does not flatten the rest. */
const MAX_SCALE = 4;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function formatRatio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : 'n/a';
}

export function drawRatioChart({ title, subtitle, groups }: ChartOptions): string {
  const WIDTH = Math.max(MIN_WIDTH, MARGIN.left + MARGIN.right + GROUP_WIDTH * groups.length);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = groups.flatMap((group) => [
    ...group.bars.flatMap((bar) => [bar.value, bar.max ?? bar.value]).filter(Number.isFinite),
    group.target?.value ?? 1,
  ]);
  const top = Math.min(MAX_SCALE, Math.max(1.5, Math.ceil((Math.max(...values, 1) * 1.12) / 0.5) * 0.5));
  const y = (value: number): number => MARGIN.top + plotHeight - (Math.min(value, top) / top) * plotHeight;
  const out: string[] = [];
  const text = (x: number, yPos: number, content: string, attributes = ''): void => {
    out.push(`<text x="${x.toFixed(1)}" y="${yPos.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`);
  };

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
  );
  text(MARGIN.left, 28, title, 'font-size="17" font-weight="600" fill="#111827"');
  text(MARGIN.left, 48, subtitle, 'font-size="11.5" fill="#4b5563"');

  // Grid and axis.
  const step = top > 2.5 ? 0.5 : 0.25;
  for (let tick = 0; tick <= top + 1e-9; tick += step) {
    const yPos = y(tick);
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${yPos.toFixed(1)}" y2="${yPos.toFixed(1)}" stroke="#e5e7eb"/>`,
    );
    text(MARGIN.left - 8, yPos + 4, tick.toFixed(2), 'text-anchor="end" fill="#6b7280" font-size="11"');
  }
  text(
    16,
    MARGIN.top + plotHeight / 2,
    'ratio to raw ws',
    `transform="rotate(-90 16 ${MARGIN.top + plotHeight / 2})" text-anchor="middle" fill="#374151"`,
  );

  const groupWidth = plotWidth / groups.length;
  groups.forEach((group, groupIndex) => {
    const x0 = MARGIN.left + groupIndex * groupWidth;
    const barWidth = Math.min(44, (groupWidth * 0.7) / group.bars.length);
    const barsX = x0 + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, barIndex) => {
      const x = barsX + barIndex * barWidth;
      if (Number.isFinite(bar.value)) {
        const yTop = y(bar.value);
        out.push(
          `<rect x="${(x + 2).toFixed(1)}" y="${yTop.toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${(MARGIN.top + plotHeight - yTop).toFixed(1)}" fill="${bar.color}"><title>${escapeXml(`${bar.label}: ${formatRatio(bar.value)}`)}</title></rect>`,
        );
        const clipped = bar.value > top;
        const whisker = bar.min !== undefined && bar.max !== undefined && bar.max > bar.min;
        if (whisker) {
          const cx = (x + barWidth / 2).toFixed(1);
          out.push(
            `<line x1="${cx}" x2="${cx}" y1="${y(bar.min!).toFixed(1)}" y2="${y(bar.max!).toFixed(1)}" stroke="#374151" stroke-width="1.2"/>`,
          );
        }
        // Above the whisker; clipped bars' labels alternate in height so that neighbours do not overlap.
        text(
          x + barWidth / 2,
          Math.min(yTop, whisker ? y(bar.max!) : yTop) -
            5 -
            (clipped || (whisker && bar.max! > top) ? 11 * (barIndex % 2) : 0),
          `${clipped ? '↑ ' : ''}${formatRatio(bar.value)}`,
          'text-anchor="middle" font-size="10.5" fill="#111827" stroke="#ffffff" stroke-width="3" paint-order="stroke"',
        );
      } else {
        text(x + barWidth / 2, y(0) - 5, 'n/a', 'text-anchor="middle" font-size="10.5" fill="#6b7280"');
      }
    });
    if (group.target) {
      const yPos = y(group.target.value);
      const x1 = barsX - 8;
      const x2 = barsX + barWidth * group.bars.length + 8;
      out.push(
        `<line x1="${x1.toFixed(1)}" x2="${x2.toFixed(1)}" y1="${yPos.toFixed(1)}" y2="${yPos.toFixed(1)}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="5 3"/>`,
      );
    }
    const target = group.target ? ` · ${group.target.op === '>=' ? '≥' : '≤'} ${group.target.value}` : '';
    const comma = group.label.indexOf(', ');
    const [measure, line] = comma < 0 ? [group.label, ''] : [group.label.slice(0, comma), group.label.slice(comma + 2)];
    text(
      x0 + groupWidth / 2,
      MARGIN.top + plotHeight + 20,
      measure,
      'text-anchor="middle" font-size="11.5" font-weight="600" fill="#111827"',
    );
    text(x0 + groupWidth / 2, MARGIN.top + plotHeight + 35, line, 'text-anchor="middle" font-size="11" fill="#111827"');
    text(
      x0 + groupWidth / 2,
      MARGIN.top + plotHeight + 50,
      `${group.note}${target}`,
      'text-anchor="middle" font-size="11" fill="#4b5563"',
    );
  });

  // Raw ws: the line at 1.0, drawn over the bars (named in the legend).
  const one = y(1);
  out.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${one.toFixed(1)}" y2="${one.toFixed(1)}" stroke="#111827" stroke-width="1.5"/>`,
  );

  // Legend.
  const legendY = HEIGHT - 28;
  let legendX = MARGIN.left;
  for (const bar of groups[0]?.bars ?? []) {
    out.push(`<rect x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${bar.color}"/>`);
    text(legendX + 17, legendY, bar.label, 'fill="#111827"');
    legendX += 30 + bar.label.length * 7;
  }
  out.push(
    `<line x1="${legendX}" x2="${legendX + 22}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#111827" stroke-width="1.5"/>`,
  );
  text(legendX + 28, legendY, 'raw ws = 1.0', 'fill="#111827"');
  legendX += 130;
  out.push(
    `<line x1="${legendX}" x2="${legendX + 22}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="5 3"/>`,
  );
  text(legendX + 28, legendY, "target for wirecall (the issue's goal)", 'fill="#111827"');
  out.push('</svg>', '');
  return out.join('\n');
}
