// decide on 10,000 distinct snapshots of a five-check policy with three derived facts and two
// custom rules, beside a hand-written plain-JS evaluation of the same thresholds (one run, one core).
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadPolicies } from '../dist/pipeline/policy/load.js';
import { compilePolicy } from '../dist/pipeline/compile/compile.js';
import { decide, engineFacts, withMissingChecks } from '../dist/pipeline/decide/decide.js';
import { withDerived } from '../dist/pipeline/facts/derived.js';
import { parseSnapshot } from '../dist/pipeline/facts/snapshot.js';
import { compileJsonata } from '../dist/lib/jsonata/bounded.js';
import { shippedCommand } from './image.mjs';

/** Each run after the first, in a process of its own: the flags bin/kubestead runs with, and the controller image's (its Dockerfile). */
const flaggedRuns = async () => [
  { flags: ['--max-semi-space-size=32'], label: "bin/kubestead's setting: validate, test, eval" },
  {
    flags: (await shippedCommand()).filter((token) => token.startsWith('--')),
    label: "the controller image's setting: short pauses in a small process (Dockerfile, docs/operator.md)",
  },
];

const CHECKS = [
  { name: 'error-rate', max: 0.01 },
  { name: 'p99', max: 0.8 },
  { name: 'apdex', min: 0.9 },
  { name: 'saturation', max: 0.9 },
  { name: 'success', min: 0.99, max: 1 },
];

export const POLICY = `apiVersion: kubestead.io/v1alpha1
kind: RolloutPolicy
metadata: {name: bench, namespace: bench}
spec:
  targetRef: {kind: Deployment, name: bench}
  steps: [{weight: 5}, {weight: 25}, {pause: {}}, {weight: 50}]
  providers: {prom: {prometheus: {address: "http://prom:9090"}}}
  checks:
${CHECKS.map((c) => `    - {name: ${c.name}, provider: prom, query: up${c.min !== undefined ? `, min: ${c.min}` : ''}${c.max !== undefined ? `, max: ${c.max}` : ''}}`).join('\n')}
  derived:
    burn: "checks.\`error-rate\`.value / 0.001"
    headroom: "1 - checks.saturation.value"
    requests: "rollout.canary.readyReplicas * 100"
  rules:
    - {name: burn-hold, when: {all: [{fact: derived, path: "$.burn", operator: greaterThan, value: 8}]}, then: hold}
    - {name: headroom-pause, when: {any: [{fact: derived, path: "$.headroom", operator: lessThan, value: 0.05}, {fact: kube, path: "$.warningEvents", operator: greaterThan, value: 1}]}, then: pause}
`;

/** A small seeded PRNG, so every run measures the same 10,000 snapshots. */
function prng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 1 | s) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

export function snapshots(count) {
  const random = prng(42);
  return Array.from({ length: count }, (_, i) => ({
    version: 1,
    time: new Date(Date.UTC(2026, 10, 26, 10, 0, i)).toISOString(),
    rollout: {
      phase: 'Progressing',
      step: i % 4,
      stepCount: 4,
      manualPause: random() < 0.05,
      stepKind: i % 4 === 2 ? 'pause' : 'weight',
      weight: [5, 25, 25, 50][i % 4],
      stepElapsedSeconds: Math.floor(random() * 600),
      soakSeconds: i % 4 === 2 ? null : 300,
      canary: { desiredReplicas: 2, readyReplicas: random() < 0.97 ? 2 : 1, restarts: random() < 0.97 ? 0 : 5 },
      stable: { desiredReplicas: 4, readyReplicas: 4 },
    },
    checks: Object.fromEntries(
      CHECKS.map((c) => [
        c.name,
        random() < 0.03
          ? {
              status: 'unavailable',
              value: null,
              min: c.min ?? null,
              max: c.max ?? null,
              provider: 'prom',
              query: 'up',
              error: 'timeout after 5s',
            }
          : {
              status: 'ok',
              value: valueFor(c, random),
              min: c.min ?? null,
              max: c.max ?? null,
              provider: 'prom',
              query: 'up',
              observedAt: '2026-11-26T10:00:00Z',
            },
      ]),
    ),
    derived: {},
    kube: { warningEvents: random() < 0.95 ? 0 : 3, reasons: {} },
    override: random() < 0.02 ? ['abort', 'pause', 'promote', 'resume'][Math.floor(random() * 4)] : null,
  }));
}

function valueFor(check, random) {
  const low = check.min ?? 0;
  const high = check.max ?? 1;
  return low + (high - low) * (random() * 1.1);
}

/** The same thresholds by hand: what the engine is measured against. */
function plainDecide(s) {
  const out = (c, m) => (c.max !== undefined && m.value > c.max) || (c.min !== undefined && m.value < c.min);
  if (s.override === 'abort') return 'rollback';
  if (CHECKS.some((c) => s.checks[c.name].status === 'ok' && out(c, s.checks[c.name]))) return 'rollback';
  const r = s.rollout;
  if (r.canary.restarts > 3 || (r.stepElapsedSeconds >= 600 && r.canary.readyReplicas < r.canary.desiredReplicas))
    return 'rollback';
  if (CHECKS.some((c) => s.checks[c.name].status !== 'ok')) return 'rollback';
  const burn = s.checks['error-rate'].value / 0.001;
  if (burn > 8) return 'hold';
  if (1 - s.checks.saturation.value < 0.05 || s.kube.warningEvents > 1) return 'pause';
  const resumed = s.override === 'resume' || s.override === 'promote';
  if (s.override === 'pause' || (r.manualPause && !resumed) || (r.stepKind === 'pause' && !resumed)) return 'pause';
  if (s.override === 'promote') return 'promote';
  if (r.stepKind === 'weight' && r.stepElapsedSeconds < r.soakSeconds) return 'hold';
  return r.step === r.stepCount - 1 ? 'promote' : 'advance';
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * The benchmark with Node's default young generation, then with the flags of bin/kubestead (a 32 MiB
 * semi-space) and of the controller image (a 2 MiB semi-space among others).
 * decide allocates about 150 KiB a decision (promises of json-rules-engine, jsonata frames): with the
 * default 16 MiB semi-space, scavenges cost about 13 µs a decision.
 */
export async function run() {
  console.log('### Node defaults');
  await measure();
  for (const { flags, label } of await flaggedRuns()) {
    console.log(`\n### ${flags.join(' ')} (${label})`);
    const child = spawnSync(
      process.execPath,
      [
        ...flags,
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(import.meta.url)}); await m.measure();`,
      ],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) throw new Error(`the ${flags.join(' ')} run failed`);
  }
}

export async function measure() {
  const { policies, errors } = loadPolicies(POLICY, 'bench.yaml');
  if (errors.length) throw new Error(errors.join('\n'));
  const compiled = compilePolicy(policies[0].policy);
  const inputs = snapshots(10_000);

  for (const s of inputs.slice(0, 1000)) await decide(compiled, s); // warm-up
  let agree = 0;
  const engineStart = performance.now();
  const actions = []; // only the action is kept: holding 10,000 whole decisions would time the GC, not decide
  for (const s of inputs) actions.push((await decide(compiled, s)).action);
  const engineMs = performance.now() - engineStart;

  const plainStart = performance.now();
  const plain = inputs.map(plainDecide);
  const plainMs = performance.now() - plainStart;
  actions.forEach((action, i) => {
    if (action === plain[i]) agree += 1;
  });

  const decideTimes = [];
  for (const s of inputs) {
    const t = performance.now();
    await decide(compiled, s);
    decideTimes.push((performance.now() - t) * 1000);
  }

  const prepared = [];
  for (const s of inputs)
    prepared.push(engineFacts(await withDerived(compiled, withMissingChecks(compiled, parseSnapshot(s).snapshot))));
  const runTimes = [];
  for (const s of prepared) {
    const t = performance.now();
    await compiled.engines.run(s);
    runTimes.push((performance.now() - t) * 1000);
  }

  const engineRate = (inputs.length / engineMs) * 1000;
  const plainRate = (inputs.length / plainMs) * 1000;
  console.log(
    `decide (validate + derived + engine): ${engineRate.toFixed(0)} decisions/s, ${((engineMs * 1000) / inputs.length).toFixed(1)} µs each`,
  );
  console.log(
    `decide median latency:                ${median(decideTimes).toFixed(1)} µs (p90 ${[...decideTimes].sort((a, b) => a - b)[Math.floor(decideTimes.length * 0.9)].toFixed(1)} µs)`,
  );
  console.log(`plain JS thresholds:                  ${plainRate.toFixed(0)} decisions/s`);
  console.log(`ratio plain/decide:                   ${(plainRate / engineRate).toFixed(0)}×`);
  console.log(
    `engine.run median:                    ${median(runTimes).toFixed(1)} µs (p90 ${[...runTimes].sort((a, b) => a - b)[Math.floor(runTimes.length * 0.9)].toFixed(1)} µs)`,
  );
  console.log(`actions agree with the plain version: ${agree}/${inputs.length}`);
  const counts = {};
  for (const action of actions) counts[action] = (counts[action] ?? 0) + 1;
  console.log(`actions: ${JSON.stringify(counts)}`);
  await budgetCost(compiled, inputs);
  await profile();
}

/**
 * What the jsonata evaluation budget (time, depth, sequence: src/lib/jsonata/bounded.ts) costs decide: the
 * same policy with its derived facts compiled without a budget. Both run on the same 500 snapshots
 * back to back, in alternating order, 20 times; the median of the 20 ratios is what a busy machine
 * disturbs least.
 */
export async function budgetCost(compiled, inputs) {
  const unbounded = {
    ...compiled,
    derived: compiled.derived.map((d) => ({ ...d, expression: compileJsonata(d.text, null) })),
  };
  const ratios = [];
  const spent = { bounded: 0, unbounded: 0 };
  for (let round = 0; round < 20; round++) {
    const slice = inputs.slice(round * 500, (round + 1) * 500);
    const order =
      round % 2
        ? [
            ['unbounded', unbounded],
            ['bounded', compiled],
          ]
        : [
            ['bounded', compiled],
            ['unbounded', unbounded],
          ];
    const took = {};
    for (const [name, policy] of order) {
      const t = performance.now();
      for (const s of slice) await decide(policy, s);
      took[name] = performance.now() - t;
      spent[name] += took[name];
    }
    ratios.push(took.bounded / took.unbounded);
  }
  const rate = (ms) => (10_000 / ms) * 1000;
  console.log(
    `jsonata budget on / off:              ${rate(spent.bounded).toFixed(0)} / ${rate(spent.unbounded).toFixed(0)} decisions/s; median time ratio on/off ${median(ratios).toFixed(3)}`,
  );
}

/** Where a decision's time goes: validation, derived facts, the engine; each phase timed per snapshot. */
export async function profile() {
  const { policies } = loadPolicies(POLICY, 'bench.yaml');
  const compiled = compilePolicy(policies[0].policy);
  const inputs = snapshots(10_000);
  const spent = { validate: 0, derived: 0, engine: 0 };
  for (const input of inputs) {
    const t0 = performance.now();
    const parsed = parseSnapshot(input).snapshot;
    const t1 = performance.now();
    const prepared = await withDerived(compiled, withMissingChecks(compiled, parsed));
    const t2 = performance.now();
    await compiled.engines.run(engineFacts(prepared));
    const t3 = performance.now();
    spent.validate += t1 - t0;
    spent.derived += t2 - t1;
    spent.engine += t3 - t2;
  }
  const us = (ms) => `${((ms * 1000) / inputs.length).toFixed(1)} µs`;
  console.log(`per snapshot: validate ${us(spent.validate)}, derived ${us(spent.derived)}, engine ${us(spent.engine)}`);
}
