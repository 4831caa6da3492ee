import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/entry.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { CRASH_POINTS } from '../../src/tick/index.js';
import { kubestead } from '../audit/run-cli.js';
import type { OperatorProcess } from '../controller/process.js';
import { prometheusTestsEnabled, type PrometheusHarness } from '../metrics/prometheus-harness.js';
import { raw, waitFor } from '../sandbox/support.js';
import { apply, eventsAbout, kubectl, operatorCluster, policyYaml, status, waitForPhase, workloadYaml } from './support.js';

const enabled = prometheusTestsEnabled();
const NS = 'audited';

/** What Prometheus answers now for `query` at `time` (ISO): the value as the controller parses it. */
async function promValue(prom: PrometheusHarness, query: string, time: string): Promise<number> {
  const form = new URLSearchParams({ query, time: (Date.parse(time) / 1000).toFixed(3) });
  const res = await fetch(`${prom.url}/api/v1/query`, { method: 'POST', body: form });
  const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return Number(body.data.result[0]?.value[1]);
}

/**
 * One policy's chain through everything that can happen to a controller: a SIGKILL at every
 * boundary of a tick, a leader change mid-rollout, a rollback after a kill; real `kubestead run`
 * processes, the real Prometheus, the real CLI to export and verify.
 */
describe.runIf(enabled)('an audited rollout in the sandbox: kills, a leader change, a rollback, one chain', () => {
  const cluster = operatorCluster();
  const operator = (extra: string[] = [], env: Record<string, string> = {}): Promise<OperatorProcess> => cluster.operator(NS, extra, env);
  let sandbox: Sandbox;
  let prom: PrometheusHarness;
  beforeAll(() => {
    ({ sandbox, prom } = cluster);
  });

  async function stopped(proc: OperatorProcess): Promise<void> {
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  }

  async function setImage(image: string): Promise<void> {
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', `app=${image}`, '-n', NS);
  }

  /** Exports the chain with the CLI and verifies it against status.audit.head; returns its entries. */
  async function exportedChain(): Promise<AuditEntry[]> {
    const env = { KUBECONFIG: sandbox.kubeconfigPath };
    const exported = await kubestead(['audit', 'export', 'checkout', '-n', NS], { env });
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    const head = ((await status(sandbox, NS, 'checkout')).audit as { head: string; seq: number });
    const verified = await kubestead(['audit', 'verify', '-', '--head', head.head, '--policy', `${NS}/checkout`], { input: exported.stdout });
    expect(verified.stderr).toBe('');
    expect(verified).toMatchObject({ code: 0, stdout: `OK ${NS}/checkout: ${head.seq + 1} entries, seq 0..${head.seq}, head ${head.head}\n` });
    const entries = exported.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as AuditEntry);
    expect(entries.map((e) => e.seq)).toEqual([...entries.keys()]);
    return entries;
  }

  /** Every decision entry holds the values Prometheus answered: the same query at the same time gives the same number. */
  async function expectFactsFromPrometheus(entries: AuditEntry[]): Promise<void> {
    const decisions = entries.filter((e) => e.kind === 'decision');
    for (const entry of decisions) {
      const check = entry.snapshot!.checks.errors!;
      expect(check.status, `seq ${entry.seq}`).toBe('ok');
      expect(check.query).toContain('track="canary"');
      expect(await promValue(prom, check.query, check.observedAt ?? entry.snapshot!.time), `seq ${entry.seq} ${entry.decision!.action}`).toBe(check.value);
    }
  }

  it('kills at every boundary and a leader change: Succeeded twice, then a rollback; the chain verifies, no gap, each decision once with Prometheus\'s values', async () => {
    await apply(sandbox, workloadYaml(NS, 'checkout', 'example/checkout:1'));
    await apply(sandbox, policyYaml(NS, 'checkout', prom.url));
    await stopped(await (async () => {
      const first = await operator();
      await waitForPhase(sandbox, NS, 'checkout', 'Idle', 30_000);
      return first;
    })());

    // a release, the controller SIGKILLed at each boundary of a tick in turn, then one that finishes it
    await setImage('example/checkout:2');
    for (const point of CRASH_POINTS) {
      const doomed = await operator([], { KUBESTEAD_TEST_CRASH_AT: point });
      expect(await doomed.exited, point).toEqual({ code: 137, signal: null });
    }
    await stopped(await (async () => {
      const finisher = await operator();
      await waitForPhase(sandbox, NS, 'checkout', 'Succeeded', 60_000);
      return finisher;
    })());
    const afterKills = await exportedChain();

    // a release during which the leader is SIGKILLed: the other replica finishes it, the chain runs on
    const leaseArgs = ['--leader-elect', '--lease-namespace', NS];
    const a = await operator(leaseArgs);
    await waitFor(async () => (await raw(sandbox, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/kubestead-controller`)).body?.spec?.holderIdentity === a.lines[0]!.identity, 20_000, 'a to lead');
    const b = await operator(leaseArgs);
    const before = await status(sandbox, NS, 'checkout');
    await setImage('example/checkout:3');
    const started = await waitFor(async () => {
      const s = (await status(sandbox, NS, 'checkout')) as { phase?: string; canaryRevision?: string };
      return s.phase === 'Progressing' && s.canaryRevision !== before.canaryRevision ? s : undefined;
    }, 30_000, 'the canary of checkout:3 under a');
    a.kill('SIGKILL');
    await waitFor(async () => {
      const s = await status(sandbox, NS, 'checkout');
      return s.phase === 'Succeeded' && s.stableRevision === started.canaryRevision;
    }, 60_000, 'b to finish checkout:3');
    await stopped(b);

    // the canary fails: a controller killed just after storing the rollback entry, the next one completes it
    prom.exporter.canaryErrors = 40;
    await waitFor(async () => (await promValue(prom, 'sum(rate(http_requests_total{app="checkout",track="canary",code="500"}[5s])) / sum(rate(http_requests_total{app="checkout",track="canary"}[5s]))', new Date().toISOString())) > 0.2, 30_000, 'the breach in Prometheus');
    await setImage('example/checkout:4');
    const doomed = await operator([], { KUBESTEAD_TEST_CRASH_AT: 'after-record' });
    expect(await doomed.exited).toEqual({ code: 137, signal: null });
    await stopped(await (async () => {
      const last = await operator();
      await waitForPhase(sandbox, NS, 'checkout', 'RolledBack', 30_000);
      return last;
    })());

    const entries = await exportedChain();
    expect(entries.slice(0, afterKills.length)).toEqual(afterKills);
    const actions = entries.filter((e) => e.kind === 'decision').map((e) => `${e.decision!.action} ${e.revision}`);
    const revisions = [...new Set(entries.filter((e) => e.kind === 'decision').map((e) => e.revision))];
    expect(revisions).toHaveLength(3);
    const [r2, r3, r4] = revisions;
    expect(actions).toEqual([`advance ${r2}`, `promote ${r2}`, `advance ${r3}`, `promote ${r3}`, `rollback ${r4}`]);
    await expectFactsFromPrometheus(entries);
    const rollback = entries.find((e) => e.decision?.action === 'rollback')!;
    expect(rollback.snapshot!.checks.errors!.value).toBeGreaterThan(0.2);
    const events = await eventsAbout(sandbox, NS, 'RolloutPolicy', 'checkout');
    // Events are at-least-once (a process killed after creating one creates it again); the chain holds each decision once
    const reasons = { advance: 'Advanced', promote: 'Promoted', rollback: 'RolledBack' } as Record<string, string>;
    const decided = entries.filter((e) => e.kind === 'decision').map((e) => `${reasons[e.decision!.action]}: ${e.message}`);
    expect(new Set(events.filter((e) => /^(Advanced|Promoted|RolledBack):/.test(e)))).toEqual(new Set(decided));
    const final = (await status(sandbox, NS, 'checkout')) as { audit?: unknown; conditions: Array<{ type: string }> };
    expect(final.audit).toEqual({ head: entries.at(-1)!.hash, seq: entries.at(-1)!.seq });
    expect(final.conditions.find((c) => c.type === 'AuditHealthy')).toMatchObject({ status: 'True', reason: 'AuditHealthy' });
  }, 240_000);
});
