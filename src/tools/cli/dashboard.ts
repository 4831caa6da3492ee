import { systemClock } from '../../lib/clock/clock.js';
import { createLogger } from '../../lib/log/logger.js';
import { defineCommand } from './define.js';
import { UsageError } from './usage-error.js';

const DEFAULT_PORT = 8090;

function portOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(`--port: expected a port number (0 picks a free one), got ${JSON.stringify(text)}`);
  return port;
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
}

export const dashboardCommand = defineCommand({
  name: 'dashboard',
  summary: 'serve a read-only web dashboard of the policies, from the current kubeconfig',
  usage: '[--port N] [-n NS | --all-namespaces] [--address HOST]',
  description: `Serves web pages on this machine that show the RolloutPolicies of the current kubeconfig's
cluster, read with your own credentials: every policy at a glance (phase, step, weight asked and
given, last decision, age) and a page per policy (its steps as a timeline, each check's values
against its bounds as a chart, the last decision and its reasons, overrides with who gave them,
the audit chain's verification and the rollback reports), updated live. Prints its URL.

Read-only: anything but GET and HEAD is refused (405). The pages read a JSON API,
GET /api/v1/policies and GET /api/v1/namespaces/NS/policies/NAME: the document
\`kubestead status NAME -o json\` prints. In the cluster, \`kubestead run --dashboard-addr\` serves
the same pages behind bearer tokens (docs/dashboard.md).`,
  options: {
    port: { type: 'string', value: 'N', description: `the port (default ${DEFAULT_PORT}; 0 picks a free one)` },
    address: { type: 'string', value: 'HOST', description: 'the address to listen on (default 127.0.0.1)' },
    namespace: {
      type: 'string',
      short: 'n',
      value: 'NS',
      description: "show this namespace's policies (default: the kubeconfig context's, else default)",
    },
    'all-namespaces': { type: 'boolean', short: 'A', description: 'show the policies of every namespace' },
  },
  exitCodes: ['0  stopped (Ctrl-C or SIGTERM)'],
  async run({ values, positionals }) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (values.namespace !== undefined && values['all-namespaces'])
      throw new UsageError('-n and --all-namespaces do not go together');
    const port = portOf(values.port);
    const { kubeTarget } = await import('./kube-target.js');
    const target = await kubeTarget('-', values.namespace);
    const [{ kubeClients }, { clusterSource }, { startDashboard }, { kubeconfigAccess }] = await Promise.all([
      import('../../adapters/kube/clients.js'),
      import('../dashboard/source.js'),
      import('../dashboard/server.js'),
      import('../dashboard/access.js'),
    ]);
    const logger = createLogger({ level: 'warn' });
    const source = clusterSource({
      clients: kubeClients(target.kubeConfig),
      kubeConfig: target.kubeConfig,
      namespace: values['all-namespaces'] ? undefined : target.namespace,
      clock: systemClock,
      logger,
    });
    const dashboard = await startDashboard({
      source,
      access: kubeconfigAccess,
      clock: systemClock,
      logger,
      host: values.address ?? '127.0.0.1',
      port,
    }).catch((error: Error) => {
      void source.close();
      throw new UsageError(`cannot listen on port ${port}: ${error.message}`);
    });
    const scope = values['all-namespaces'] ? 'every namespace' : `namespace ${target.namespace}`;
    process.stdout.write(`Kubestead dashboard (${scope}, read-only): ${dashboard.url}\nCtrl-C to stop.\n`);
    await untilSignal();
    await dashboard.close();
    await source.close();
    return 0;
  },
});
