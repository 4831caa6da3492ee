import { REPORT_FORMATS, renderReport, type ReportFormat } from '../../pipeline/record/audit/report/render.js';
import { defineCommand } from './define.js';
import { fromCluster, kubeTarget, NAMESPACE_OPTION } from './kube-target.js';
import { UsageError } from './usage-error.js';
import { kubeClients } from '../../adapters/kube/clients.js';

function formatOf(text: string | undefined): ReportFormat {
  const format = text ?? 'md';
  if (!(REPORT_FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format: expected one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  return format as ReportFormat;
}

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'print the newest rollback report of a policy',
  usage: 'NAME [-n NS] [--format md|json|svg|html]',
  description: `Prints the newest rollback report of RolloutPolicy NAME, read from the cluster of the
current kubeconfig: the timeline of the rollout's steps, the breach (query, value, bound, time),
each check's values over the rollout against its bounds, and what was restored. svg prints the
chart alone; html a page with the chart inline.`,
  options: {
    ...NAMESPACE_OPTION,
    format: { type: 'string', value: 'FORMAT', description: 'md (default), json, svg or html' },
  },
  exitCodes: ['0  printed', '1  the policy has no rollback report'],
  async run({ values, positionals }) {
    const [name, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const format = formatOf(values.format);
    const target = await kubeTarget(name, values.namespace);
    const [{ policyUid }, { ReportStore }] = await Promise.all([
      import('../../pipeline/record/audit/export.js'),
      import('../../pipeline/record/audit/report/store.js'),
    ]);
    const report = await fromCluster(async () => {
      const uid = await policyUid(kubeClients(target.kubeConfig), target.namespace, target.name);
      return new ReportStore(kubeClients(target.kubeConfig), true).latest(target.namespace, target.name, uid);
    });
    if (!report) {
      process.stderr.write(
        `kubestead report: no rollback report for RolloutPolicy ${target.namespace}/${target.name}\n`,
      );
      return 1;
    }
    process.stdout.write(renderReport(report, format));
    return 0;
  },
});
