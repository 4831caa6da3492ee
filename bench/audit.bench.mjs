// The audit trail's costs, as ratios to a plain JSON.stringify of the same entries (one run):
// an entry (canonical JSON + SHA-256 + link), storing it in the sandbox cluster (a ConfigMap write),
// and the throughput of `audit export` (reading the chain back) and `audit verify`.
import { performance } from 'node:perf_hooks';
import { draftOf, sealEntry, entryLine } from '../dist/pipeline/record/audit/entry.js';
import { parseChainText } from '../dist/pipeline/record/audit/parse.js';
import { verifyChain } from '../dist/pipeline/record/audit/verify.js';
import { readChainLines } from '../dist/pipeline/record/audit/export.js';
import { AuditRecorder } from '../dist/pipeline/record/audit/recorder.js';
import { systemClock } from '../dist/lib/clock/clock.js';
import { silentLogger } from '../dist/lib/log/logger.js';
import { kubeClients } from '../dist/adapters/kube/clients.js';
import { startSandbox } from '@kubestead/sandbox';
import { CoreV1Api } from '@kubernetes/client-node';

const CHECKS = ['error-rate', 'p99', 'apdex', 'saturation', 'success'];
const POLICY = { namespace: 'bench', name: 'checkout', uid: '00000000-0000-4000-8000-00000000beef', generation: 1 };

/** A record with a five-check snapshot, as the controller hands it over. */
function recordOf(i) {
  const time = new Date(Date.UTC(2026, 10, 26, 10, 0, i)).toISOString();
  return {
    kind: 'decision',
    time,
    policy: POLICY,
    revision: `rev-${i}`,
    controller: 'kubestead-0',
    message: `advance at step ${i % 4}`,
    decision: {
      action: 'advance',
      step: i % 4,
      nextStep: (i % 4) + 1,
      reasons: [{ rule: 'soak-elapsed', message: 'soak of 300s elapsed, all checks in bounds' }],
    },
    snapshot: {
      version: 1,
      time,
      rollout: {
        phase: 'Progressing',
        step: i % 4,
        stepCount: 4,
        manualPause: false,
        stepKind: 'weight',
        weight: 25,
        stepElapsedSeconds: 301,
        soakSeconds: 300,
        canary: { desiredReplicas: 2, readyReplicas: 2, restarts: 0 },
        stable: { desiredReplicas: 4, readyReplicas: 4 },
      },
      checks: Object.fromEntries(
        CHECKS.map((name, k) => [
          name,
          {
            status: 'ok',
            value: 0.001 * (i % 97) + k / 10,
            min: null,
            max: 0.9,
            provider: 'prom',
            query: `sum(rate(http_requests_total{app="checkout",track="canary",check="${name}"}[2m]))`,
            observedAt: time,
          },
        ]),
      ),
      derived: { burn: i / 7 },
      kube: { warningEvents: 0, reasons: {} },
      override: null,
    },
  };
}

function timed(fn) {
  const start = performance.now();
  const result = fn();
  return { ms: performance.now() - start, result };
}

export async function run() {
  const count = 5000;
  const drafts = Array.from({ length: count }, (_, i) => draftOf(recordOf(i), false));
  for (const d of drafts.slice(0, 500)) JSON.stringify(d); // warm-up
  const plain = timed(() => drafts.map((d) => JSON.stringify(d)));
  const sealed = timed(() => {
    const chain = [];
    for (const d of drafts) chain.push(sealEntry(d, chain.at(-1) ?? null, d.time));
    return chain;
  });
  const lines = sealed.result.map(entryLine);
  const text = `${lines.join('\n')}\n`;
  const verified = timed(() => verifyChain(parseChainText(text, 'bench')));
  if (!verified.result.ok) throw new Error('the bench chain does not verify');
  const bytes = plain.result.reduce((n, s) => n + s.length, 0) / count;
  console.log(`${count} entries of ${Math.round(bytes)} bytes (a five-check snapshot each)`);
  console.log(`JSON.stringify           ${((plain.ms * 1000) / count).toFixed(1)} µs/entry (the baseline)`);
  console.log(
    `entry (canonical+SHA-256) ${((sealed.ms * 1000) / count).toFixed(1)} µs/entry = ${(sealed.ms / plain.ms).toFixed(1)}× JSON.stringify`,
  );
  console.log(
    `verify                   ${Math.round(count / (verified.ms / 1000))} entries/s = ${(verified.ms / plain.ms).toFixed(1)}× the time of JSON.stringify`,
  );

  const sandbox = await startSandbox({ workloads: false });
  try {
    await sandbox.client(CoreV1Api).createNamespace({ body: { metadata: { name: 'bench' } } });
    const recorder = new AuditRecorder(sandbox.kubeConfig(), systemClock, silentLogger);
    const stored = 300;
    const start = performance.now();
    for (let i = 0; i < stored; i += 1) await recorder.record(recordOf(i));
    const storeMs = performance.now() - start;
    const perStoredPlain = plain.ms / count;
    console.log(
      `store (sandbox ConfigMap) ${(storeMs / stored).toFixed(2)} ms/entry = ${Math.round(storeMs / stored / perStoredPlain)}× JSON.stringify (an HTTPS round trip to an in-process API server)`,
    );
    const exportStart = performance.now();
    const exportLines = await readChainLines(kubeClients(sandbox.kubeConfig()), 'bench', 'checkout');
    const exportMs = performance.now() - exportStart;
    if (exportLines.length !== stored) throw new Error(`exported ${exportLines.length} of ${stored}`);
    console.log(
      `export (list + concat)   ${Math.round(stored / (exportMs / 1000))} entries/s = ${(exportMs / (perStoredPlain * stored)).toFixed(1)}× the time of JSON.stringify`,
    );
    await recorder.stop();
  } finally {
    await sandbox.close();
  }
}
