import type { Clock } from '../../lib/clock/clock.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import type { DemoDisplay } from './display.js';
import { followRelease, pollPolicy, type ReleaseOutcome } from './follow.js';
import { demoQueries } from './metrics-source.js';
import { DemoPolicyApi, readDemoPolicy, releaseShop, SHOP } from './shop-cluster.js';
import type { DemoStack } from './stack.js';

/** Every wait of the demo (adoption, a release, a breach) ends within this, or the demo fails saying which. */
const WAIT_MS = 45_000;
/** The bad build: three requests in ten fail, each takes 0.8 s. */
export const BAD_BUILD = { errorRate: 0.3, latencySeconds: 0.8 } as const;

/** How the two releases ended. */
export interface StoryOutcome {
  good: ReleaseOutcome;
  bad: ReleaseOutcome;
  stepCount: number;
}

interface Story {
  stack: DemoStack;
  display: DemoDisplay;
  clock: Clock;
  api: DemoPolicyApi;
}

const follow = (story: Story) => ({ api: story.api, display: story.display, clock: story.clock, timeoutMs: WAIT_MS });

function describePolicy(policy: RolloutPolicy): string {
  const steps = policy.spec.steps.map((s) => (s.weight !== undefined ? `${s.weight}%` : 'pause')).join(' → ');
  const soaks = policy.spec.steps.map((s) => s.soak ?? '-').join('/');
  const checks = policy.spec.checks
    .map((c) => `${c.name}${c.max !== undefined ? ` ≤ ${c.max}` : ''}${c.min !== undefined ? ` ≥ ${c.min}` : ''}`)
    .join(', ');
  return `steps ${steps}, soaks ${soaks}, every ${policy.spec.interval}; checks ${checks}`;
}

async function applyPolicy(story: Story): Promise<void> {
  const { stack, display } = story;
  await story.api.apply(await readDemoPolicy(stack.metrics.url));
  display.note(
    `demo: applied RolloutPolicy ${SHOP.namespace}/${SHOP.name} (fixtures/policies/shop-demo.yaml): ` +
      `${describePolicy(stack.policy)}`,
  );
  await pollPolicy(follow(story), 'the controller to adopt the shop', (p) =>
    p.status?.phase === 'Idle' ? true : undefined,
  );
  display.note(
    `demo: ${SHOP.namespace}/${SHOP.name} adopted: ${SHOP.name}-primary serves ${SHOP.image}:1, the canary is scaled ` +
      `to 0`,
  );
}

async function release(story: Story, version: string): Promise<ReleaseOutcome> {
  const since = story.clock.now();
  await releaseShop(story.stack.kubeConfig, version);
  return followRelease(follow(story), since);
}

/** Waits until the metrics source's error rate of the canary passes `test` (Prometheus scrapes once a second). */
async function errorRateSeen(story: Story, test: (value: number) => boolean, what: string): Promise<void> {
  const { stack, clock } = story;
  const [errorQuery] = demoQueries(stack.policy);
  const url = `${stack.metrics.url}/api/v1/query?${new URLSearchParams({ query: errorQuery!.text }).toString()}`;
  const deadline = clock.now() + WAIT_MS;
  for (;;) {
    const body = await fetch(url).then(
      (r) => r.json() as Promise<{ data?: { result?: Array<{ value: [number, string] }> } }>,
      () => undefined,
    );
    const value = Number(body?.data?.result?.[0]?.value[1] ?? NaN);
    if (Number.isFinite(value) && test(value)) return;
    if (clock.now() > deadline) throw new Error(`the metrics source did not report ${what} within ${WAIT_MS / 1000} s`);
    await clock.sleep(250);
  }
}

/**
 * The demo's story on a running stack: apply the policy; a good release (shop:2) walks every
 * step to Succeeded; a bad one (shop:3, whose canary the exporter makes fail) rolls back.
 */
export async function playStory(stack: DemoStack, display: DemoDisplay, clock: Clock): Promise<StoryOutcome> {
  const story: Story = { stack, display, clock, api: new DemoPolicyApi(stack.kubeConfig) };
  await errorRateSeen(story, () => true, "the canary's error rate");
  await applyPolicy(story);
  display.note(`demo: release 1, a good one: ${SHOP.image}:1 → :2, its canary as healthy as the primary`);
  const good = await release(story, '2');
  display.note(`demo: release 1 ended ${good.status.phase}`);
  stack.traffic.set('canary', BAD_BUILD);
  display.note(
    `demo: release 2, a bad one: ${SHOP.image}:2 → :3, ` +
      `whose canary fails ${BAD_BUILD.errorRate * 100}% of requests ` +
      `and takes ${BAD_BUILD.latencySeconds} s (waiting until ` +
      `${stack.metrics.kind === 'prometheus' ? 'Prometheus' : 'the metrics source'} sees it)`,
  );
  const max = stack.policy.spec.checks[0]?.max ?? 0;
  await errorRateSeen(story, (value) => value > max, `the bad build's error rate above ${max}`);
  const bad = await release(story, '3');
  display.note(`demo: release 2 ended ${bad.status.phase}`);
  return { good, bad, stepCount: stack.policy.spec.steps.length };
}
