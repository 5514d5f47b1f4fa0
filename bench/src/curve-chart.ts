/**
 * Draws curves as an SVG line chart, by hand (no dependencies), in the style of chart.ts: one
 * panel per measure side by side, one line per peer, whiskers from the lowest to the highest
 * repetition when there are several, logarithmic axes where the values span decades.
 */

export interface CurveSeriesPoint {
  x: number;
  y: number;
  /** The spread over the repetitions (drawn as a whisker when it differs from y). */
  min?: number;
  max?: number;
}

export interface CurveSeries {
  label: string;
  color: string;
  points: CurveSeriesPoint[];
}

export interface CurvePanel {
  title: string;
  yLabel: string;
  logY?: boolean;
  series: CurveSeries[];
}

export interface CurveChartOptions {
  title: string;
  subtitle: string;
  xLabel: string;
  xLog: boolean;
  formatX: (x: number) => string;
  /** Points named rather than placed: x is the index of the category, evenly spaced. */
  categories?: readonly string[];
  panels: CurvePanel[];
}

const PANEL_WIDTH = 470;
const PANEL_HEIGHT = 330;
const TOP = 84;
const BOTTOM = 92;
const PAD = { left: 64, right: 18, top: 24, bottom: 48 };

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Short numbers for axis labels: 950, 12k, 3.4M. */
function shortNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toPrecision(3)}k`;
  if (abs >= 100 || Number.isInteger(value)) return String(Math.round(value));
  return String(+value.toPrecision(2));
}

/** Round tick values covering [0, max] (about 5 of them). */
function linearTicks(max: number): number[] {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= raw)!;
  return Array.from({ length: Math.ceil(max / step) + 1 }, (_, index) => index * step);
}

/** Powers of ten covering [min, max], with 2 and 5 between them when there are few decades. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  const first = Math.floor(Math.log10(min));
  const last = Math.ceil(Math.log10(max));
  for (let exponent = first; exponent <= last; exponent++) {
    for (const factor of last - first <= 2 ? [1, 2, 5] : [1]) {
      const value = factor * 10 ** exponent;
      if (value >= min / 1.01 && value <= max * 1.01) ticks.push(value);
    }
  }
  return ticks;
}

interface Scale {
  at: (value: number) => number;
  ticks: number[];
}

function scale(values: number[], log: boolean, [from, to]: [number, number]): Scale {
  const finite = values.filter((value) => Number.isFinite(value) && (!log || value > 0));
  if (log) {
    const min = 10 ** Math.floor(Math.log10(Math.min(...finite)));
    const max = 10 ** Math.ceil(Math.log10(Math.max(...finite)));
    const span = Math.log10(max) - Math.log10(min) || 1;
    return {
      at: (value) => from + ((Math.log10(value) - Math.log10(min)) / span) * (to - from),
      ticks: logTicks(min, max),
    };
  }
  const ticks = linearTicks(Math.max(...finite, 1e-9) * 1.05);
  const max = ticks.at(-1)!;
  return { at: (value) => from + (value / max) * (to - from), ticks };
}

/** A logarithmic x axis over exactly the points' range, with a tick at each point (they are few). */
function pointScale(values: number[], [from, to]: [number, number]): Scale {
  const ticks = [...new Set(values.filter((value) => Number.isFinite(value) && value > 0))].sort((p, q) => p - q);
  const min = Math.log10(ticks[0] ?? 1);
  const span = Math.log10(ticks.at(-1) ?? 10) - min || 1;
  return { at: (value) => from + ((Math.log10(value) - min) / span) * (to - from), ticks };
}

export function drawCurveChart(options: CurveChartOptions): string {
  const { title, subtitle, xLabel, xLog, formatX, categories, panels } = options;
  const width = PANEL_WIDTH * panels.length + 24;
  const height = TOP + PANEL_HEIGHT + BOTTOM;
  const out: string[] = [];
  const text = (x: number, y: number, content: string, attributes = ''): void => {
    out.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`);
  };
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  text(24, 28, title, 'font-size="17" font-weight="600" fill="#111827"');
  text(24, 48, subtitle, 'font-size="11.5" fill="#4b5563"');

  const allX = panels.flatMap((panel) => panel.series.flatMap((series) => series.points.map((point) => point.x)));
  panels.forEach((panel, index) => {
    const left = 12 + index * PANEL_WIDTH + PAD.left;
    const right = 12 + (index + 1) * PANEL_WIDTH - PAD.right;
    const top = TOP + PAD.top;
    const bottom = TOP + PANEL_HEIGHT - PAD.bottom;
    const x: Scale =
      categories === undefined
        ? xLog
          ? pointScale(allX, [left + 24, right - 24])
          : scale(allX, false, [left, right])
        : {
            at: (index) => left + 24 + (index / Math.max(1, categories.length - 1)) * (right - left - 48),
            ticks: categories.map((_, index) => index),
          };
    const xTickLabel = (tick: number): string => categories?.[tick] ?? (xLog ? formatX(tick) : shortNumber(tick));
    const ys = panel.series.flatMap((series) =>
      series.points.flatMap((point) => [point.y, point.min ?? point.y, point.max ?? point.y]),
    );
    const y = scale(ys, panel.logY ?? false, [bottom, top]);
    text(left, TOP + 8, panel.title, 'font-size="13" font-weight="600" fill="#111827"');
    for (const tick of y.ticks) {
      const at = y.at(tick);
      out.push(`<line x1="${left}" x2="${right}" y1="${at.toFixed(1)}" y2="${at.toFixed(1)}" stroke="#e5e7eb"/>`);
      text(left - 6, at + 4, shortNumber(tick), 'text-anchor="end" fill="#6b7280" font-size="11"');
    }
    for (const tick of x.ticks) {
      const at = x.at(tick);
      out.push(`<line x1="${at.toFixed(1)}" x2="${at.toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#f3f4f6"/>`);
      text(at, bottom + 16, xTickLabel(tick), 'text-anchor="middle" fill="#6b7280" font-size="11"');
    }
    out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#9ca3af"/>`);
    text((left + right) / 2, bottom + 34, xLabel, 'text-anchor="middle" fill="#374151"');
    const middle = (top + bottom) / 2;
    text(
      left - 48,
      middle,
      panel.yLabel,
      `transform="rotate(-90 ${left - 48} ${middle})" text-anchor="middle" fill="#374151"`,
    );
    for (const series of panel.series) {
      const points = series.points.filter(
        (point) =>
          Number.isFinite(point.y) &&
          Number.isFinite(point.x) &&
          (!xLog || categories !== undefined || point.x > 0) &&
          (!panel.logY || point.y > 0),
      );
      const path = points.map((point) => `${x.at(point.x).toFixed(1)},${y.at(point.y).toFixed(1)}`).join(' ');
      if (points.length > 1) {
        out.push(`<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
      }
      for (const point of points) {
        const px = x.at(point.x);
        if (
          point.min !== undefined &&
          point.max !== undefined &&
          point.max > point.min &&
          (!panel.logY || point.min > 0)
        ) {
          out.push(
            `<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${y.at(point.min).toFixed(1)}" y2="${y.at(point.max).toFixed(1)}" stroke="${series.color}" stroke-width="1.2" opacity="0.7"/>`,
          );
        }
        out.push(
          `<circle cx="${px.toFixed(1)}" cy="${y.at(point.y).toFixed(1)}" r="3" fill="${series.color}"><title>${escapeXml(`${series.label}: ${xTickLabel(point.x)} → ${shortNumber(point.y)}`)}</title></circle>`,
        );
      }
    }
  });

  // Legend.
  const legendY = height - 24;
  let legendX = 24;
  for (const series of panels[0]?.series ?? []) {
    out.push(
      `<line x1="${legendX}" x2="${legendX + 22}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${series.color}" stroke-width="2"/>`,
    );
    text(legendX + 28, legendY, series.label, 'fill="#111827"');
    legendX += 48 + series.label.length * 7;
  }
  text(legendX + 8, legendY, 'whiskers: lowest to highest repetition', 'fill="#6b7280" font-size="11"');
  out.push('</svg>', '');
  return out.join('\n');
}
