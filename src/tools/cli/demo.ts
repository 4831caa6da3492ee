import { systemClock, type Clock } from '../../lib/clock/clock.js';
import type { DemoDisplay } from '../demo/display.js';
import type { Evidence } from '../demo/evidence.js';
import type { ReleaseOutcome } from '../demo/follow.js';
import type { DemoCluster, DemoStack } from '../demo/stack.js';
import type { StoryOutcome } from '../demo/story.js';
import { defineCommand } from './define.js';
import { UsageError } from './usage-error.js';
import { loadSandbox } from './sandbox-package.js';

const DESCRIPTION = `Shows the whole product on this machine, in under a minute, with nothing installed: starts the
sandbox cluster, a simulated 'shop' service (Deployment, Service, and an exporter whose canary
error rate and latency the demo drives), a metrics source (the real Prometheus when one is on
PATH, otherwise a built-in one answering the same queries), and the controller with its audit
recorder. It applies fixtures/policies/shop-demo.yaml, then plays a good release, promoted
through every step, and a bad one, rolled back at its first breach, showing the policy as
'kubestead status --watch' does. At the end it verifies the audit chain and says where the
audit log and the rollback report are. Plain lines when not on a terminal or with --no-color.`;

/** The demo's last line, the one CI checks. */
export function closingSummary(story: StoryOutcome, evidence: Evidence): string {
  const { good, bad } = story;
  const goodText =
    `good release ${good.status.phase ?? '(no phase)'} in ${good.stepsSeen.length} ` +
    `step${good.stepsSeen.length === 1 ? '' : 's'}`;
  return `demo: ${goodText}; ${badReleaseText(bad)}; ${chainText(evidence)}`;
}

/** `bad release RolledBack at step 1 (error-rate = 0.07 is above max 0.05)`: the breaches, else every reason. */
function badReleaseText(bad: ReleaseOutcome): string {
  const all = bad.status.lastDecision?.reasons ?? [];
  const breaches = all.filter((r) => r.check !== undefined);
  const reasons = (breaches.length ? breaches : all).map((r) => r.message).join('; ');
  const step = bad.stepsSeen.at(-1) ?? bad.status.currentStep;
  const where = step === undefined ? '' : ` at step ${step + 1}`;
  return `bad release ${bad.status.phase ?? '(no phase)'}${where}${reasons ? ` (${reasons})` : ''}`;
}

function chainText({ file, cluster }: Evidence): string {
  if (file.ok && cluster.ok) return `audit chain verified (${file.entries} entries)`;
  return `audit chain NOT verified: ${file.finding?.message ?? cluster.finding?.message ?? ''}`;
}

/** Both releases ended as the story says, and the chain holds in the file and in the cluster. */
export function demoSucceeded(story: StoryOutcome, evidence: Evidence): boolean {
  const everyStep = story.good.stepsSeen.length === story.stepCount;
  return (
    story.good.status.phase === 'Succeeded' &&
    everyStep &&
    story.bad.status.phase === 'RolledBack' &&
    evidence.file.ok &&
    evidence.cluster.ok &&
    evidence.file.entries === evidence.cluster.entries
  );
}

/** How quickly the sandbox's pods become ready: fast enough for a demo, slow enough to be seen. */
const READY_DELAY_MS = 500;

/** The sandbox, instant (no controller lag, no grace periods), its kubeconfig at `kubeconfigPath`. */
async function startCluster(kubeconfigPath: string): Promise<DemoCluster> {
  const { startSandbox } = await loadSandbox();
  return startSandbox({ kubeconfigPath, timing: false, workloads: { readyDelayMs: READY_DELAY_MS } });
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
}

async function display(color: boolean, clock: Clock): Promise<DemoDisplay> {
  const { LiveDisplay, PlainDisplay } = await import('../demo/display.js');
  return color ? new LiveDisplay(process.stdout) : new PlainDisplay(process.stdout, clock.now());
}

async function finish(stack: DemoStack, story: StoryOutcome, say: (line: string) => void): Promise<number> {
  const { gatherEvidence } = await import('../demo/evidence.js');
  await stack.stopController();
  const evidence = await gatherEvidence(stack.kubeConfig, stack.files, say);
  say(
    `demo: audit log: ${stack.files.auditLog} (JSON Lines; in the cluster: ConfigMaps of shop/shop, 'kubestead audit ` +
      `export shop -n shop')`,
  );
  say(
    evidence.report
      ? `demo: rollback report: ConfigMap shop/${evidence.report.configMap} ('kubestead report shop -n shop'), a ` +
          `copy in ${evidence.report.file}`
      : 'demo: no rollback report was written',
  );
  say(`demo: controller log: ${stack.files.controllerLog}`);
  say(closingSummary(story, evidence));
  return demoSucceeded(story, evidence) ? 0 : 1;
}

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'see it work: a good release promoted, a bad one rolled back, in a sandbox (under a minute)',
  usage: '[--keep] [--no-color]',
  description: DESCRIPTION,
  options: {
    keep: {
      type: 'boolean',
      description:
        'leave the sandbox, the shop and its metrics running afterwards and print the KUBECONFIG (Ctrl-C stops them)',
    },
    'no-color': { type: 'boolean', description: 'plain lines, no colours, no redrawing' },
  },
  exitCodes: [
    '0  the good release succeeded, the bad one rolled back, and the audit chain verifies',
    '1  one of them did not (the last line says which)',
  ],
  async run({ values, positionals }) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const clock = systemClock;
    const color = !values['no-color'] && process.stdout.isTTY === true && !process.env.NO_COLOR;
    const out = await display(color, clock);
    const say = (line: string): void => out.note(line);
    const { startDemoStack } = await import('../demo/stack.js');
    const { prometheusOnPath } = await import('../demo/prometheus.js');
    const { playStory } = await import('../demo/story.js');
    const stack = await startDemoStack(clock, prometheusOnPath(), startCluster);
    try {
      say(`demo: sandbox cluster at ${stack.cluster.url}; the shop's exporter at ${stack.exporter.url}/metrics`);
      say(`demo: ${stack.metrics.description}`);
      say(`demo: controller running in-process, auditing into the cluster and ${stack.files.auditLog}`);
      const story = await playStory(stack, out, clock);
      const code = await finish(stack, story, say);
      if (values.keep) await keep(stack, say);
      return code;
    } catch (error) {
      say(`demo: FAILED: ${(error as Error).message}`);
      say(`demo: controller log: ${stack.files.controllerLog}`);
      return 1;
    } finally {
      await stack.close();
    }
  },
});

async function keep(stack: DemoStack, say: (line: string) => void): Promise<void> {
  say(
    `demo: --keep: the sandbox, the shop and its metrics keep running (the controller is stopped; start it with ` +
      `'bin/kubestead run -n shop'). Ctrl-C ends them.`,
  );
  say(`export KUBECONFIG=${stack.files.kubeconfig}`);
  await untilSignal();
}
