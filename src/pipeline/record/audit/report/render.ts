import { formatDuration } from '../../../policy/duration.js';
import type { RollbackReport } from './build.js';
import { chartSvg, xmlEscape } from './svg.js';
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

/** A self-contained HTML page: the Markdown's facts and the chart inline. */
export function reportHtml(report: RollbackReport): string {
  const svg = chartSvg(report).replace(/^<\?xml[^>]*>\n/, '');
  const markdown = xmlEscape(reportMarkdown(report));
  const title = xmlEscape(`Rollback report: ${report.policy.namespace}/${report.policy.name}`);
  const head = `<head><meta charset="utf-8"><title>${title}</title></head>`;
  return `<!DOCTYPE html>\n<html lang="en">${head}<body>${svg}<pre>${markdown}</pre></body></html>\n`;
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
