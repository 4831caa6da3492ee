import { formatDuration } from '../../../policy/duration.js';
import type { RollbackReport } from './build.js';
import { chartDescription, chartSvg, label, plotted, xmlEscape } from './svg.js';
import { stepLabel } from '../../../policy/vocabulary.js';

export const REPORT_FORMATS = ['md', 'json', 'svg', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

function bounds(min: number | null, max: number | null): string {
  return [min === null ? '' : `min ${min}`, max === null ? '' : `max ${max}`].filter(Boolean).join(', ') || 'none';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The report as Markdown: summary, breach, timeline, each check's values, what was restored. */
export function reportMarkdown(report: RollbackReport): string {
  const { policy, breach } = report;
  const duration = formatDuration((Date.parse(report.rolledBackAt) - Date.parse(report.startedAt)) / 1000);
  const lines = [
    `# Rollback report: ${policy.namespace}/${policy.name}`,
    '',
    `Revision ${report.revision ?? '(unknown)'} rolled back at ${report.rolledBackAt}, ${duration} after the ` +
      `rollout's first entry (audit seq ${report.rollback.seq}, hash \`${report.rollback.hash}\`).`,
    '',
    '## Why',
    '',
    ...report.rollback.reasons.map((r) => `- ${r}`),
    '',
  ];
  if (breach) {
    lines.push(
      '## The breach',
      '',
      `- check: ${breach.check} (provider ${breach.provider})`,
      `- query: \`${breach.query.replace(/`/g, "'")}\``,
      `- value: ${breach.value} at ${breach.observedAt ?? '(no time)'}`,
      `- bounds: ${bounds(breach.min, breach.max)}`,
      '',
    );
  }
  lines.push(
    '## Timeline',
    '',
    '| seq | time | kind | action | step | weight | message |',
    '|---|---|---|---|---|---|---|',
    ...report.timeline.map(
      (t) =>
        `| ${t.seq} | ${t.time} | ${t.kind} | ${t.action}${t.late ? ' (late)' : ''} | ` +
        `${stepLabel(t.step, report.stepCount ?? undefined)} | ${t.weight ?? ''} | ${cell(t.message)} |`,
    ),
    '',
  );
  lines.push('## Checks over the rollout', '');
  for (const [name, series] of Object.entries(report.checks)) {
    lines.push(
      `### ${name} (${bounds(series.min, series.max)})`,
      '',
      '| time | value | seq |',
      '|---|---|---|',
      ...series.points.map((p) => `| ${p.time} | ${p.value ?? 'unavailable'} | ${p.seq} |`),
      '',
    );
  }
  lines.push('## Restored', '', report.restored, '');
  return lines.join('\n');
}

const STYLE = `body{font-family:system-ui,sans-serif;color:#212121;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}h3{font-size:1.05rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eee}td.num{text-align:right;font-variant-numeric:tabular-nums}.out{color:#b71c1c;font-weight:bold}
code{font-size:.85rem;word-break:break-all}figure{margin:1rem 0}svg{max-width:100%;height:auto}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr,figure{break-inside:avoid}a{color:inherit}}`;

const esc = xmlEscape;

function table(head: string[], rows: string[][], numeric: number[] = []): string {
  const th = head.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function breachHtml(report: RollbackReport): string {
  const b = report.breach;
  if (!b) return '';
  const rows = [
    ['check', `${esc(b.check)} (provider ${esc(b.provider)})`],
    ['query', `<code>${esc(b.query)}</code>`],
    ['value', `<span class="out">${b.value ?? 'unavailable'}</span> at ${esc(b.observedAt ?? '(no time)')}`],
    ['bounds', esc(bounds(b.min, b.max))],
  ].map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`);
  return `<h2>The breach</h2>\n<table><tbody>${rows.join('')}</tbody></table>`;
}

function verdict(value: number | null, min: number | null, max: number | null): string {
  if (value === null) return 'unavailable';
  if (max !== null && value > max) return '<span class="out">above max</span>';
  if (min !== null && value < min) return '<span class="out">below min</span>';
  return 'in bounds';
}

function checksHtml(report: RollbackReport): string {
  return Object.entries(report.checks)
    .map(([name, s]) => {
      const rows = plotted(s).map((p) => [
        esc(p.time),
        p.step === undefined ? '' : esc(stepLabel(p.step, report.stepCount ?? undefined)),
        p.value === null ? 'unavailable' : String(p.value),
        verdict(p.value, s.min, s.max),
      ]);
      const history = s.history
        ? `<p>Before the first tick (${esc(s.history.from)} to ${esc(s.history.to)}): ${
            s.history.points.length
              ? `${s.history.points.length} readings from the provider, from ${label(Math.min(...s.history.points.map((p) => p.value)))} to ${label(Math.max(...s.history.points.map((p) => p.value)))}.`
              : esc(s.history.note ?? 'no readings.')
          }</p>`
        : '';
      const every = s.ticks?.length ? 'every tick' : 'each recorded entry';
      return (
        `<h3>${esc(name)} (${esc(bounds(s.min, s.max))})</h3>\n<p>Provider ${esc(s.provider)}, ${every}: ` +
        `<code>${esc(s.query)}</code></p>\n${table(['time', 'step', 'value', 'against its bounds'], rows, [2])}\n${history}`
      );
    })
    .join('\n');
}

/** A self-contained HTML page that prints well: headings, tables, the chart inline (no outside fetch). */
export function reportHtml(report: RollbackReport): string {
  const { policy } = report;
  const svg = chartSvg(report).replace(/^<\?xml[^>]*>\n/, '');
  const title = esc(`Rollback report: ${policy.namespace}/${policy.name}`);
  const duration = formatDuration((Date.parse(report.rolledBackAt) - Date.parse(report.startedAt)) / 1000);
  const timeline = report.timeline.map((t) => [
    String(t.seq),
    esc(t.time),
    esc(t.kind),
    `${esc(t.action)}${t.late ? ' (late)' : ''}`,
    esc(stepLabel(t.step, report.stepCount ?? undefined)),
    t.weight === null ? '' : `${t.weight}%`,
    esc(t.message),
  ]);
  const body = [
    `<h1>${title}</h1>`,
    `<p>Revision <code>${esc(report.revision ?? '(unknown)')}</code> rolled back at ${esc(report.rolledBackAt)}, ` +
      `${esc(duration)} after the rollout's first entry (audit seq ${report.rollback.seq}, hash ` +
      `<code>${esc(report.rollback.hash)}</code>).</p>`,
    '<h2>Why</h2>',
    `<ul>${report.rollback.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`,
    breachHtml(report),
    '<h2>Chart</h2>',
    `<figure>${svg}<figcaption>${esc(chartDescription(report))}</figcaption></figure>`,
    '<h2>Timeline</h2>',
    table(['seq', 'time', 'kind', 'action', 'step', 'weight', 'message'], timeline, [0, 5]),
    '<h2>Checks over the rollout</h2>',
    checksHtml(report),
    '<h2>Restored</h2>',
    `<p>${esc(report.restored)}</p>`,
  ];
  const head = `<head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>${title}</title><style>${STYLE}</style></head>`;
  return `<!DOCTYPE html>\n<html lang="en">${head}<body><main>\n${body.filter(Boolean).join('\n')}\n</main></body></html>\n`;
}

export function renderReport(report: RollbackReport, format: ReportFormat): string {
  switch (format) {
    case 'md':
      return reportMarkdown(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'svg':
      return chartSvg(report);
    case 'html':
      return reportHtml(report);
    default: {
      const unknownFormat: never = format;
      throw new Error(`unknown report format ${String(unknownFormat)}`);
    }
  }
}
