import type { CheckSeries, RollbackReport } from './build.js';

const WIDTH = 720;
const PANEL = 240;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 40 };

/** Text for XML: the five predefined entities. */
export function xmlEscape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** A number as a short label: 0.0123, 1.5e-7, 12300. */
export function label(value: number): string {
  return Number(value.toPrecision(3)).toString();
}

/** The value range a panel shows: every value and bound, with 10 % room; never empty. */
export function valueRange(series: CheckSeries): [number, number] {
  const values = [
    ...series.points.flatMap((p) => (p.value === null ? [] : [p.value])),
    ...[series.min, series.max].filter((b): b is number => b !== null),
  ];
  if (values.length === 0) return [0, 1];
  const [low, high] = [Math.min(...values), Math.max(...values)];
  const room = high === low ? Math.abs(high) * 0.1 || 1 : (high - low) * 0.1;
  return [low - room, high + room];
}

/** Maps a value to a y pixel of a panel whose top is `top`. */
export function yOf(value: number, range: [number, number], top: number): number {
  const inner = PANEL - MARGIN.top - MARGIN.bottom;
  return round(top + MARGIN.top + inner * (1 - (value - range[0]) / (range[1] - range[0])));
}

function xOf(time: number, span: [number, number]): number {
  const inner = WIDTH - MARGIN.left - MARGIN.right;
  return round(MARGIN.left + (span[1] === span[0] ? inner / 2 : (inner * (time - span[0])) / (span[1] - span[0])));
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function boundLine(name: 'min' | 'max', bound: number | null, range: [number, number], top: number): string {
  if (bound === null) return '';
  const y = yOf(bound, range, top);
  return (
    `<line class="bound" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#c62828" ` +
    `stroke-width="2" stroke-dasharray="6 4"/><text x="${WIDTH - MARGIN.right}" y="${y - 4}" text-anchor="end" ` +
    `fill="#c62828" font-size="11">${name} ${label(bound)}</text>`
  );
}

function axes(range: [number, number], span: [number, number], top: number): string {
  const ticks = [0, 1, 2, 3, 4].map((i) => range[0] + ((range[1] - range[0]) * i) / 4);
  const yTicks = ticks
    .map(
      (v) =>
        `<text x="${MARGIN.left - 6}" y="${yOf(v, range, top) + 4}" text-anchor="end" font-size="10" ` +
        `fill="#555">${xmlEscape(label(v))}</text>`,
    )
    .join('');
  const bottom = top + PANEL - MARGIN.bottom;
  const times = [span[0], span[1]]
    .map(
      (t, i) =>
        `<text x="${i === 0 ? MARGIN.left : WIDTH - MARGIN.right}" y="${bottom + 16}" ` +
        `text-anchor="${i === 0 ? 'start' : 'end'}" font-size="10" ` +
        `fill="#555">${new Date(t).toISOString().slice(11, 19)}</text>`,
    )
    .join('');
  return (
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${top + MARGIN.top}" y2="${bottom}" stroke="#888"/><line ` +
    `x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${bottom}" y2="${bottom}" stroke="#888"/>${yTicks}${times}`
  );
}

function outOfBounds(value: number, series: CheckSeries): boolean {
  return (series.max !== null && value > series.max) || (series.min !== null && value < series.min);
}

function panel(name: string, series: CheckSeries, span: [number, number], top: number): string {
  const range = valueRange(series);
  const ok = series.points.filter((p) => p.value !== null);
  const xy = ok.map((p) => `${xOf(Date.parse(p.time), span)},${yOf(p.value!, range, top)}`);
  const dots = ok
    .map((p, i) => {
      const [cx, cy] = xy[i]!.split(',');
      const fill = outOfBounds(p.value!, series) ? '#c62828' : '#1565c0';
      const title = xmlEscape(`${name} = ${p.value} at ${p.time} (seq ${p.seq})`);
      return `<circle class="point" cx="${cx}" cy="${cy}" r="3.5" fill="${fill}"><title>${title}</title></circle>`;
    })
    .join('');
  const missing = series.points
    .filter((p) => p.value === null)
    .map(
      (p) =>
        `<circle class="unavailable" cx="${xOf(Date.parse(p.time), span)}" cy="${top + PANEL - MARGIN.bottom}" ` +
        `r="3.5" fill="none" stroke="#888"><title>${xmlEscape(`${name} unavailable at ${p.time}`)}</title></circle>`,
    )
    .join('');
  const title =
    `<text x="${MARGIN.left}" y="${top + 22}" font-size="13" ` +
    `font-weight="bold">${xmlEscape(`${name} (${series.provider})`)}</text>`;
  const line =
    xy.length > 1
      ? `<polyline class="values" points="${xy.join(' ')}" fill="none" stroke="#1565c0" stroke-width="2"/>`
      : '';
  const bounds = boundLine('min', series.min, range, top) + boundLine('max', series.max, range, top);
  const content = `${title}${axes(range, span, top)}${bounds}${line}${dots}${missing}`;
  return `<g class="check" data-check="${xmlEscape(name)}">${content}</g>`;
}

/** The report's chart: one panel per check, its values over the rollout against its bounds. */
export function chartSvg(report: RollbackReport): string {
  const title = `${report.policy.namespace}/${report.policy.name}: rolled back at ${report.rolledBackAt}`;
  return checksChartSvg(title, report.checks, [Date.parse(report.startedAt), Date.parse(report.rolledBackAt)]);
}

/**
 * One panel per check, its values against its bounds over the span of its points (`fallback` when
 * there are none): the rollback report's chart, and `kubestead backtest --format svg`'s.
 */
export function checksChartSvg(title: string, checks: Record<string, CheckSeries>, fallback: [number, number]): string {
  const names = Object.keys(checks).sort();
  const times = names.flatMap((n) => checks[n]!.points.map((p) => Date.parse(p.time)));
  const span: [number, number] = times.length ? [Math.min(...times), Math.max(...times)] : fallback;
  const height = Math.max(1, names.length) * PANEL + 30;
  const heading = `<text x="${MARGIN.left}" y="20" font-size="14">${xmlEscape(title)}</text>`;
  const panels = names.length
    ? names.map((n, i) => panel(n, checks[n]!, span, 30 + i * PANEL)).join('')
    : `<text x="${MARGIN.left}" y="60" font-size="12">no check measured in this rollout</text>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" ` +
    `height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif"><rect width="100%" height="100%" ` +
    `fill="#fff"/>${heading}${panels}</svg>\n`
  );
}
