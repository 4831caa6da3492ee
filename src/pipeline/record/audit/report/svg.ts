import type { CheckSeries, RollbackReport } from './build.js';
import { stepLabel } from '../../../policy/vocabulary.js';

const WIDTH = 720;
const PANEL = 240;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 40 };
const BLUE = '#1565c0';
const RED = '#c62828';
const GREY = '#757575';

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

/** One plotted reading: a tick's (or, without the controller's ticks, a recorded entry's) value. */
interface Plotted {
  time: string;
  value: number | null;
  seq?: number;
  step?: number;
}

/** The readings a panel plots: every tick when the report has them, else the chain's entries. */
export function plotted(series: CheckSeries): Plotted[] {
  return series.ticks && series.ticks.length > 0 ? series.ticks : series.points;
}

/** The value range a panel shows: every value (history too) and bound, with 10 % room; never empty. */
export function valueRange(series: CheckSeries): [number, number] {
  const values = [
    ...plotted(series).flatMap((p) => (p.value === null ? [] : [p.value])),
    ...(series.history?.points ?? []).map((p) => p.value),
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
    `<line class="bound" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="${RED}" ` +
    `stroke-width="2" stroke-dasharray="6 4"/><text x="${WIDTH - MARGIN.right}" y="${y - 4}" text-anchor="end" ` +
    `fill="${RED}" font-size="11">${name} ${label(bound)}</text>`
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

/** A vertical marker across a panel: a step boundary, the first tick. */
function marker(cls: string, x: number, top: number, text: string): string {
  const bottom = top + PANEL - MARGIN.bottom;
  return (
    `<line class="${cls}" x1="${x}" x2="${x}" y1="${top + MARGIN.top - 8}" y2="${bottom}" stroke="${GREY}" ` +
    `stroke-dasharray="2 3"/><text x="${x + 3}" y="${top + MARGIN.top - 10}" font-size="10" ` +
    `fill="#424242">${xmlEscape(text)}</text>`
  );
}

/**
 * What a chart draws: each check's series, the times the rollout entered a new step, the breach if
 * there was one, and the span to show when no check has a point. The rollback report's chart and
 * `kubestead backtest --format svg`'s are both this.
 */
export interface Chart {
  title: string;
  checks: Record<string, CheckSeries>;
  steps: Array<{ time: number; step: number }>;
  stepCount: number | undefined;
  breach: RollbackReport['breach'];
  /** When the breach was seen if its reading has no time of its own. */
  breachTime: string;
  fallback: [number, number];
}

/** The times the rollout entered a new step (its advances), with the step it entered. */
function boundaries(report: RollbackReport): Array<{ time: number; step: number }> {
  return report.timeline
    .filter((t) => t.kind === 'decision' && t.action === 'advance')
    .map((t) => ({ time: Date.parse(t.time), step: t.step + 1 }));
}

function historyLine(name: string, series: CheckSeries, span: [number, number], frame: Frame): string {
  const points = series.history?.points ?? [];
  if (points.length === 0) return '';
  const xy = points.map((p) => `${xOf(Date.parse(p.time), span)},${yOf(p.value, frame.range, frame.top)}`);
  const title = xmlEscape(`${name} in the ${points.length} readings before the first tick (provider history)`);
  return (
    `<polyline class="history" points="${xy.join(' ')}" fill="none" stroke="${GREY}" stroke-width="1.5">` +
    `<title>${title}</title></polyline>`
  );
}

interface Frame {
  range: [number, number];
  top: number;
}

function dots(name: string, series: CheckSeries, span: [number, number], frame: Frame): string {
  return plotted(series)
    .map((p) => {
      const x = xOf(Date.parse(p.time), span);
      if (p.value === null)
        return (
          `<circle class="unavailable" cx="${x}" cy="${frame.top + PANEL - MARGIN.bottom}" r="3.5" fill="none" ` +
          `stroke="#888"><title>${xmlEscape(`${name} unavailable at ${p.time}`)}</title></circle>`
        );
      const fill = outOfBounds(p.value, series) ? RED : BLUE;
      const title = xmlEscape(`${name} = ${p.value} at ${p.time}${p.seq === undefined ? '' : ` (seq ${p.seq})`}`);
      return (
        `<circle class="point" cx="${x}" cy="${yOf(p.value, frame.range, frame.top)}" r="3.5" ` +
        `fill="${fill}"><title>${title}</title></circle>`
      );
    })
    .join('');
}

function breachMark(name: string, chart: Chart, span: [number, number], frame: Frame): string {
  const breach = chart.breach;
  if (breach?.check !== name || breach.value === null) return '';
  const x = xOf(Date.parse(breach.observedAt ?? chart.breachTime), span);
  const y = yOf(breach.value, frame.range, frame.top);
  return (
    `<g class="breach"><circle cx="${x}" cy="${y}" r="8" fill="none" stroke="${RED}" stroke-width="2"/>` +
    `<text x="${x - 10}" y="${y - 10}" text-anchor="end" font-size="11" font-weight="bold" ` +
    `fill="${RED}">breach ${xmlEscape(label(breach.value))}</text></g>`
  );
}

function panel(name: string, chart: Chart, span: [number, number], top: number): string {
  const series = chart.checks[name]!;
  const frame = { range: valueRange(series), top };
  const points = plotted(series).filter((p) => p.value !== null);
  const xy = points.map((p) => `${xOf(Date.parse(p.time), span)},${yOf(p.value!, frame.range, top)}`);
  const title =
    `<text x="${MARGIN.left}" y="${top + 22}" font-size="13" ` +
    `font-weight="bold">${xmlEscape(`${name} (${series.provider})`)}</text>`;
  const line =
    xy.length > 1
      ? `<polyline class="values" points="${xy.join(' ')}" fill="none" stroke="${BLUE}" stroke-width="2"/>`
      : '';
  const firstTick = series.history?.points.length
    ? marker('first-tick', xOf(Date.parse(series.history.to), span), top, 'first tick')
    : '';
  const steps = chart.steps
    .map((b) => marker('step-boundary', xOf(b.time, span), top, `step ${stepLabel(b.step, chart.stepCount)}`))
    .join('');
  const bounds = boundLine('min', series.min, frame.range, top) + boundLine('max', series.max, frame.range, top);
  const content =
    `${title}${axes(frame.range, span, top)}${firstTick}${steps}${bounds}${historyLine(name, series, span, frame)}` +
    `${line}${dots(name, series, span, frame)}${breachMark(name, chart, span, frame)}`;
  return `<g class="check" data-check="${xmlEscape(name)}">${content}</g>`;
}

/** The time span the chart covers: the history before the rollout, and every reading of it. */
function spanOf(chart: Chart, names: string[]): [number, number] {
  const times = names.flatMap((n) => {
    const series = chart.checks[n]!;
    return [...plotted(series), ...(series.history?.points ?? [])].map((p) => Date.parse(p.time));
  });
  return times.length ? [Math.min(...times), Math.max(...times)] : chart.fallback;
}

/** What the chart shows, in words (its text alternative). */
export function chartDescription(chart: Pick<Chart, 'checks' | 'breach'>): string {
  const names = Object.keys(chart.checks).sort();
  const parts = names.map((n) => {
    const s = chart.checks[n]!;
    const values = plotted(s).filter((p) => p.value !== null);
    const bounds = [s.min === null ? '' : `min ${s.min}`, s.max === null ? '' : `max ${s.max}`].filter(Boolean);
    const history = s.history?.points.length ? `, and ${s.history.points.length} readings before the first tick` : '';
    return `${n}: ${values.length} readings from ${label(Math.min(...values.map((p) => p.value!)))} to ${label(Math.max(...values.map((p) => p.value!)))} against ${bounds.join(' and ') || 'no bound'}${history}`;
  });
  const breach = chart.breach ? `; the breach: ${chart.breach.message}` : '';
  return names.length ? `${parts.join('; ')}${breach}.` : 'No check was measured in this rollout.';
}

/** The report's chart: one panel per check, every tick's value against its bounds, the steps, the breach, the history. */
export function chartSvg(report: RollbackReport): string {
  return checksChartSvg({
    title: `${report.policy.namespace}/${report.policy.name}: rolled back at ${report.rolledBackAt}`,
    checks: report.checks,
    steps: boundaries(report),
    stepCount: report.stepCount ?? undefined,
    breach: report.breach,
    breachTime: report.rolledBackAt,
    fallback: [Date.parse(report.startedAt), Date.parse(report.rolledBackAt)],
  });
}

/** A chart as SVG: one panel per check, with a title and a text alternative. */
export function checksChartSvg(chart: Chart): string {
  const names = Object.keys(chart.checks).sort();
  const span = spanOf(chart, names);
  const height = Math.max(1, names.length) * PANEL + 30;
  const title = chart.title;
  const heading = `<text x="${MARGIN.left}" y="20" font-size="14" aria-hidden="true">${xmlEscape(title)}</text>`;
  const panels = names.length
    ? names.map((n, i) => panel(n, chart, span, 30 + i * PANEL)).join('')
    : `<text x="${MARGIN.left}" y="60" font-size="12">no check measured in this rollout</text>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" ` +
    `height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" role="img" ` +
    `aria-labelledby="chart-title chart-desc"><title id="chart-title">${xmlEscape(title)}</title>` +
    `<desc id="chart-desc">${xmlEscape(chartDescription(chart))}</desc><rect width="100%" height="100%" ` +
    `fill="#fff"/>${heading}${panels}</svg>\n`
  );
}
