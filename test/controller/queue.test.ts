import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import { WorkQueue, type QueueOptions } from '../../src/runtime/controller/queue.js';
import { TerminalError } from '../../src/runtime/controller/reconciler.js';
import { waitFor } from '../support/wait.js';
import { RecordingReconciler } from './recording-reconciler.js';
import { type PolicyKey } from '../../src/adapters/kube/names.js';

const key = (name: string): PolicyKey => ({ namespace: 'ns', name });

interface Fixture {
  clock: ManualClock;
  reconciler: RecordingReconciler;
  queue: WorkQueue;
  loop: Promise<void>;
}

const open: Fixture[] = [];

function fixture(reconciler = new RecordingReconciler(), options: Partial<QueueOptions> = {}): Fixture {
  const clock = new ManualClock();
  const queue = new WorkQueue({
    clock,
    reconciler,
    logger: silentLogger,
    intervalOf: () => 10_000,
    random: () => 0.5,
    ...options,
  });
  const f = { clock, reconciler, queue, loop: queue.run() };
  open.push(f);
  queue.activate([]);
  return f;
}

afterEach(async () => {
  for (const f of open.splice(0)) {
    await f.queue.drain(0, new Error('test over'));
    await f.clock.advance(1);
    await f.loop;
  }
});

/** Waits until the queue has acted on everything asked of it so far: no reconcile settling, the loop asleep, nothing due. */
const settled = (f: Fixture, inFlight = f.queue.inFlight): Promise<true> =>
  waitFor(() => f.queue.inFlight === inFlight && f.queue.idle, 4000, 'the queue idle');

/** The delay after which `k` is next due, or null. */
const dueIn = (f: Fixture, k: PolicyKey): number | null => {
  const at = f.queue.dueAt(k);
  return at === null ? null : at - f.clock.now();
};

describe('work queue', () => {
  it('runs one reconcile at a time per policy; a request during a run is served right after it', async () => {
    const f = fixture(new RecordingReconciler('manual'));
    f.queue.add(key('a'));
    await waitFor(() => f.reconciler.calls.length === 1);
    f.queue.add(key('a'));
    f.queue.add(key('a'));
    await settled(f, 1);
    expect(f.reconciler.calls).toHaveLength(1);
    f.reconciler.calls[0]!.finish({ requeueAfterMs: null });
    await waitFor(() => f.reconciler.calls.length === 2);
    f.reconciler.calls[1]!.finish({ requeueAfterMs: null });
    await settled(f, 0);
    expect(f.reconciler.calls).toHaveLength(2);
    expect(f.reconciler.maxRunningPerKey).toBe(1);
  });

  it('retries a failure with per-policy exponential backoff, capped', async () => {
    const f = fixture(new RecordingReconciler(new Error('boom')), { backoffBaseMs: 1000, backoffMaxMs: 8000 });
    const delays: Array<number | null> = [];
    f.queue.add(key('a'));
    for (let attempt = 1; attempt <= 6; attempt++) {
      await waitFor(
        () => f.reconciler.calls.length === attempt && f.queue.dueAt(key('a')) !== null,
        4000,
        `attempt ${attempt}`,
      );
      const delay = dueIn(f, key('a'));
      delays.push(delay);
      await f.clock.advance(delay ?? 0);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('resets the backoff after a success', async () => {
    const reconciler = new RecordingReconciler(new Error('boom'));
    const f = fixture(reconciler, { backoffBaseMs: 1000 });
    f.queue.add(key('a'));
    await waitFor(() => dueIn(f, key('a')) === 1000);
    await f.clock.advance(1000);
    await waitFor(() => dueIn(f, key('a')) === 2000);
    reconciler.behave('ns/a', { requeueAfterMs: 3000 });
    await f.clock.advance(2000);
    await waitFor(() => dueIn(f, key('a')) === 3150);
    reconciler.behave('ns/a', new Error('again'));
    await f.clock.advance(3150);
    await waitFor(() => reconciler.calls.length === 4 && dueIn(f, key('a')) !== null);
    expect(dueIn(f, key('a'))).toBe(1000);
  });

  it('does not retry a TerminalError; only a change of the policy runs it again', async () => {
    const reconciler = new RecordingReconciler(new TerminalError('spec.steps: required'));
    const f = fixture(reconciler);
    f.queue.add(key('bad'));
    await waitFor(() => f.queue.isParked(key('bad')));
    expect(f.queue.dueAt(key('bad'))).toBeNull();
    f.queue.add(key('bad'), 0, false);
    await f.clock.advance(120_000);
    await settled(f, 0);
    expect(reconciler.calls).toHaveLength(1);
    reconciler.behave('ns/bad', { requeueAfterMs: null });
    f.queue.add(key('bad'), 0, true);
    await waitFor(() => reconciler.calls.length === 2);
    await waitFor(() => !f.queue.isParked(key('bad')));
  });

  it('honours requeue-after, at most the policy interval, with jitter that only delays', async () => {
    const reconciler = new RecordingReconciler();
    const f = fixture(reconciler, { intervalOf: () => 10_000, random: () => 0.5 });
    reconciler.behave('ns/short', { requeueAfterMs: 4000 });
    reconciler.behave('ns/long', { requeueAfterMs: 60_000 });
    reconciler.behave('ns/idle', { requeueAfterMs: null });
    for (const name of ['short', 'long', 'idle']) f.queue.add(key(name));
    await waitFor(
      () => reconciler.calls.length === 3 && dueIn(f, key('short')) !== null && dueIn(f, key('long')) !== null,
    );
    expect(dueIn(f, key('short'))).toBe(4000 + 200);
    expect(dueIn(f, key('long'))).toBe(10_000 + 500);
    expect(dueIn(f, key('idle'))).toBeNull();
    await f.clock.advance(4200);
    await waitFor(() => reconciler.callsOf('ns/short').length === 2);
    expect(reconciler.callsOf('ns/long')).toHaveLength(1);
  });

  it('keeps at most maxInFlight reconciles running, and starts the next as one ends', async () => {
    const reconciler = new RecordingReconciler('manual');
    const f = fixture(reconciler, { maxInFlight: 5 });
    for (let i = 0; i < 30; i++) f.queue.add(key(`p${i}`));
    await waitFor(() => reconciler.calls.length === 5);
    await settled(f, 5);
    expect(reconciler.calls).toHaveLength(5);
    reconciler.calls[0]!.finish({ requeueAfterMs: null });
    await waitFor(() => reconciler.calls.length === 6);
    expect(reconciler.maxRunning).toBe(5);
  });

  it('a slow policy delays no other: the others keep their interval, and the slow one is aborted at the timeout', async () => {
    const reconciler = new RecordingReconciler({ requeueAfterMs: 1000 });
    reconciler.behave('ns/slow', 'manual');
    const f = fixture(reconciler, {
      maxInFlight: 2,
      reconcileTimeoutMs: 30_000,
      intervalOf: () => 1000,
      random: () => 0,
    });
    f.queue.add(key('slow'));
    await waitFor(() => reconciler.callsOf('ns/slow').length === 1);
    for (const name of ['a', 'b', 'c']) f.queue.add(key(name));
    for (let second = 1; second <= 5; second++) {
      await waitFor(
        () => ['a', 'b', 'c'].every((n) => reconciler.callsOf(`ns/${n}`).length === second),
        4000,
        `tick ${second}`,
      );
      await f.clock.advance(1000);
    }
    const slow = reconciler.callsOf('ns/slow')[0]!;
    expect(slow.signal.aborted).toBe(false);
    await f.clock.advance(30_000);
    await waitFor(() => slow.signal.aborted);
    expect(String(slow.signal.reason)).toContain('timed out');
  });

  it('yields to the event loop between starts: 2,000 due policies never hold it', async () => {
    const reconciler = new RecordingReconciler({ requeueAfterMs: null });
    const f = fixture(reconciler, { maxInFlight: 2000 });
    let startedBeforeTimer = -1;
    for (let i = 0; i < 2000; i++) f.queue.add(key(`p${i}`));
    setTimeout(() => (startedBeforeTimer = reconciler.calls.length), 0);
    await waitFor(() => reconciler.calls.length === 2000, 20_000);
    expect(startedBeforeTimer).toBeGreaterThanOrEqual(0);
    expect(startedBeforeTimer).toBeLessThan(2000);
  });

  it('forgets a deleted policy: its state is dropped and the reconciler told', async () => {
    const reconciler = new RecordingReconciler({ requeueAfterMs: 5000 });
    const f = fixture(reconciler);
    f.queue.add(key('gone'));
    await waitFor(() => reconciler.calls.length === 1 && f.queue.dueAt(key('gone')) !== null);
    expect(f.queue.size).toBe(1);
    f.queue.forget(key('gone'));
    expect(f.queue.size).toBe(0);
    expect(reconciler.forgotten).toEqual(['ns/gone']);
    await f.clock.advance(10_000);
    await settled(f, 0);
    expect(reconciler.calls).toHaveLength(1);
  });

  it('forgets a policy deleted during its reconcile once that reconcile ends, without rescheduling it', async () => {
    const reconciler = new RecordingReconciler('manual');
    const f = fixture(reconciler);
    f.queue.add(key('gone'));
    await waitFor(() => reconciler.calls.length === 1);
    f.queue.forget(key('gone'));
    reconciler.calls[0]!.finish({ requeueAfterMs: 1000 });
    await waitFor(() => f.queue.size === 0);
    expect(f.queue.dueAt(key('gone'))).toBeNull();
  });

  it('a new leader spaces the first ticks 10 ms apart (closer when that would not fit in the interval), the first at once', async () => {
    const few = fixture(new RecordingReconciler('manual'));
    few.queue.activate(['a', 'b', 'c'].map(key));
    await waitFor(() => few.reconciler.calls.length === 1);
    expect(few.reconciler.calls[0]!.key).toBe('ns/a');
    expect([dueIn(few, key('b')), dueIn(few, key('c'))]).toEqual([10, 20]);

    // 2,000 policies at a 10 s interval: 5 ms apart, the last one due within the interval.
    const many = fixture(new RecordingReconciler('manual'), { maxInFlight: 1 });
    const keys = Array.from({ length: 2000 }, (_, i) => key(`p${i}`));
    many.queue.activate(keys);
    await waitFor(() => many.reconciler.calls.length === 1);
    expect([dueIn(many, keys[1]!), dueIn(many, keys[2]!), dueIn(many, keys[1999]!)]).toEqual([5, 10, 9995]);
  });

  it('on deactivation aborts what runs and ignores new work until activated again', async () => {
    const reconciler = new RecordingReconciler('manual');
    const f = fixture(reconciler);
    f.queue.add(key('a'));
    await waitFor(() => reconciler.calls.length === 1);
    f.queue.deactivate(new Error('lost leadership'));
    expect(reconciler.calls[0]!.signal.aborted).toBe(true);
    reconciler.calls[0]!.finish(new Error('aborted'));
    f.queue.add(key('b'));
    await settled(f, 0);
    expect(reconciler.calls).toHaveLength(1);
    expect(reconciler.forgotten).toContain('ns/a');
    f.queue.activate([key('b')]);
    await waitFor(() => reconciler.calls.length === 2);
    expect(reconciler.calls[1]!.key).toBe('ns/b');
  });

  it('drains on shutdown: waits for the reconcile in flight, and aborts it after the grace period', async () => {
    const reconciler = new RecordingReconciler('manual');
    const f = fixture(reconciler);
    f.queue.add(key('a'));
    await waitFor(() => reconciler.calls.length === 1);
    let drained = false;
    const draining = f.queue.drain(5000, new Error('shutting down')).then(() => (drained = true));
    await waitFor(() => f.clock.waiting > 0); // drain sleeps out its grace period: it waits for the reconcile
    expect(drained).toBe(false);
    reconciler.calls[0]!.finish({ requeueAfterMs: 1000 });
    await draining;
    expect(reconciler.calls[0]!.signal.aborted).toBe(false);

    const g = fixture(new RecordingReconciler('manual'));
    g.queue.add(key('stuck'));
    await waitFor(() => g.reconciler.calls.length === 1);
    const stuck = g.queue.drain(5000, new Error('shutting down'));
    await waitFor(() => g.clock.waiting > 0);
    await g.clock.advance(5000);
    await stuck;
    expect(g.reconciler.calls[0]!.signal.aborted).toBe(true);
  });
});
