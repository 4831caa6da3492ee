import { policyUid } from '../audit/export.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../audit/report/render.js';
import { ReportStore } from '../audit/report/store.js';
import type { Command } from './commands.js';
import { kubeTarget, parseAuditArgs } from './kube-target.js';
import { UsageError } from './usage-error.js';

const HELP = `Usage: kubestead report NAME [-n NS] [--format md|json|svg|html]

Prints the newest rollback report of RolloutPolicy NAME, read from the cluster of the current
kubeconfig: the timeline of the rollout's steps, the breach (query, value, bound, time), each
check's values over the rollout against its bounds, and what was restored. --format svg prints
the chart alone; html a page with the chart inline. Default: md.

Exit codes: 0 printed, 1 no rollback report for the policy, 2 bad input.`;

function formatOf(text: string | undefined): ReportFormat {
  const format = text ?? 'md';
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  return format as ReportFormat;
}

export const reportCommand: Command = {
  summary: 'print the newest rollback report of a policy',
  help: HELP,
  async run(args) {
    const parsed = parseAuditArgs(args);
    const [name, ...extra] = parsed.positionals;
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const format = formatOf(parsed.format);
    const target = kubeTarget(name, parsed.namespace);
    const uid = await policyUid(target.kubeConfig, target.namespace, target.name);
    const report = await new ReportStore(target.kubeConfig, true).latest(target.namespace, target.name, uid);
    if (!report) {
      process.stderr.write(`kubestead report: no rollback report for RolloutPolicy ${target.namespace}/${target.name}\n`);
      return 1;
    }
    process.stdout.write(renderReport(report, format));
    return 0;
  },
};
