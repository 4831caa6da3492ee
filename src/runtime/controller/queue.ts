import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import { backoffDelay } from './backoff.js';
import { TerminalError, type Reconciler, type ReconcileResult } from './reconciler.js';
import { TimerHeap } from './timer-heap.js';
import { keyString, type PolicyKey } from '../../adapters/kube/names.js';
import { errorLine, isApiUnavailable } from '../../adapters/kube/errors.js';

export interface QueueOptions {
  clock: Clock;
  reconciler: Reconciler;
  logger: Logger;
  /** The policy's spec.interval in ms (undefined: not known); the longest a progressing policy waits between ticks. */
  intervalOf(key: PolicyKey): number | undefined;
  /** Reconciles running at once (default 32: a tick mostly waits on the API server and the metric providers). */
  maxInFlight?: number;
  /** Failure backoff: base doubling per failure up to max (default 1 s to 60 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A reconcile still running after this long is aborted and counted a failure (default 5 min). */
  reconcileTimeoutMs?: number;
  /** 0 ≤ random() < 1, for jitter (default Math.random). */
  random?: () => number;
  /** Told of each finished reconcile: its outcome and how long it took. */
  onDone?(key: PolicyKey, outcome: 'ok' | 'error' | 'terminal', durationMs: number): void;
}

interface Pending {
  at: number;
  /** A change of the policy: lifts a terminal failure. */
  change: boolean;
}

interface KeyState {
  key: PolicyKey;
  dueAt: number | null;
  running: boolean;
  /** Asked for while running: scheduled when the run ends. */
  pending: Pending | null;
  failures: number;
  terminal: boolean;
  forgotten: boolean;
}

/**
 * The reason of the queue's own wake-ups and finished timeouts: an abort() without one builds a
 * DOMException with a stack each time, a measurable share of the loop with a thousand policies.
 */
const WOKEN = new Error('work queue woken');
const FINISHED = new Error('reconcile finished');

/** Jitter: up to 10 % later, never earlier (a soak must never be cut short). */
const JITTER = 0.1;

/**
 * A new leader's first ticks: 10 ms apart (100 a second), closer when that would not fit in the
 * policy's interval, so that a thousand policies tick evenly over each interval instead of at once.
 */
const ACTIVATION_SPACING_MS = 10;
/**
 * The interval of a policy whose spec is not in the cache (spec.interval defaults to 30 s: docs/reference/policy.md).
 */
const DEFAULT_INTERVAL_MS = 30_000;

/**
 * The work queue: one reconcile at a time per policy, at most `maxInFlight` in all, each policy due at
 * its own time (its interval, a requeue-after, or a backoff after a failure), dispatched in due order.
 * A TerminalError parks the policy until it changes. The dispatcher yields to the event loop after
 * each start, so a thousand due policies never hold it.
 */
export class WorkQueue {
  private readonly states = new Map<string, KeyState>();
  private readonly heap = new TimerHeap();
  private readonly running = new Map<string, AbortController>();
  private readonly finishers = new Map<string, Array<() => void>>();
  private slotsUsed = 0;
  private active = false;
  private stopped = false;
  private asleep = false;
  private wakeUp: AbortController = new AbortController();
  private readonly maxInFlight: number;
  private readonly random: () => number;

  constructor(private readonly options: QueueOptions) {
    this.maxInFlight = options.maxInFlight ?? 32;
    this.random = options.random ?? Math.random;
  }

  /**
   * Asks for a reconcile of `key` after `delayMs`; `change: true` for a change of the policy (lifts a terminal
   * failure).
   */
  add(key: PolicyKey, delayMs = 0, change = false): void {
    if (!this.active) return;
    const state = this.stateOf(key);
    const at = this.options.clock.now() + delayMs;
    if (state.running) {
      state.pending = mergePending(state.pending, { at, change });
      return;
    }
    if (state.terminal && !change) return;
    if (change) {
      state.terminal = false;
      state.failures = 0;
    }
    this.schedule(state, at);
  }

  private stateOf(key: PolicyKey): KeyState {
    const id = keyString(key);
    let state = this.states.get(id);
    if (!state)
      this.states.set(
        id,
        (state = { key, dueAt: null, running: false, pending: null, failures: 0, terminal: false, forgotten: false }),
      );
    state.forgotten = false;
    return state;
  }

  /** The policy is gone: drops its state (the reconcile in flight, if any, finishes and is not rescheduled). */
  forget(key: PolicyKey): void {
    const id = keyString(key);
    const state = this.states.get(id);
    if (state?.running) state.forgotten = true;
    else this.states.delete(id);
    this.options.reconciler.forget(key);
  }

  /**
   * Starts dispatching (this replica leads). The first ticks of `keys` are spaced out, the first at
   * once: ticks due at one instant would stay bunched, one burst every interval, for as long as the
   * process runs (each policy requeues from the end of its own tick).
   */
  activate(keys: PolicyKey[]): void {
    this.active = true;
    keys.forEach((key, i) => {
      const spacingMs = Math.min(
        ACTIVATION_SPACING_MS,
        (this.options.intervalOf(key) ?? DEFAULT_INTERVAL_MS) / keys.length,
      );
      this.add(key, Math.floor(i * spacingMs), true);
    });
    this.wake();
  }

  /**
   * Stops dispatching and aborts what runs (leadership lost): nothing of this queue's memory can be trusted any more.
   */
  deactivate(reason: Error): void {
    this.active = false;
    for (const controller of this.running.values()) controller.abort(reason);
    for (const state of this.states.values()) this.options.reconciler.forget(state.key);
    this.states.clear();
    this.heap.clear();
  }

  /** Policies known to the queue (bounded by the policies in the cache). */
  get size(): number {
    return this.states.size;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** When `key` is next due (ms on the clock), or null: running, parked or unknown. */
  dueAt(key: PolicyKey): number | null {
    return this.states.get(keyString(key))?.dueAt ?? null;
  }

  /**
   * The dispatch loop waits and nothing is due now: every request so far has been started or
   * scheduled. What a test waits for before asserting that nothing more started.
   */
  get idle(): boolean {
    if (!this.asleep) return false;
    const top = this.heap.peek();
    return !this.active || this.slotsUsed >= this.maxInFlight || top === undefined || top.at > this.options.clock.now();
  }

  isParked(key: PolicyKey): boolean {
    return this.states.get(keyString(key))?.terminal ?? false;
  }

  /** The dispatch loop; resolves when stopped. */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (this.active) await this.dispatchDue();
      await this.sleepUntilNext();
    }
  }

  /** Stops dispatching, then waits up to `graceMs` for the reconciles in flight to finish and aborts the rest. */
  async drain(graceMs: number, reason: Error): Promise<void> {
    this.stopped = true;
    this.active = false;
    this.wake();
    const deadline = new AbortController();
    const finished = Promise.allSettled([...this.running.keys()].map((id) => this.whenFinished(id)));
    const timeout = this.options.clock.sleep(graceMs, deadline.signal).then(
      () => 'timeout' as const,
      () => 'done' as const,
    );
    const outcome = await Promise.race([finished.then(() => 'done' as const), timeout]);
    deadline.abort();
    if (outcome === 'timeout') for (const controller of this.running.values()) controller.abort(reason);
  }

  private whenFinished(id: string): Promise<void> {
    if (!this.running.has(id)) return Promise.resolve();
    return new Promise((resolve) => this.finishers.set(id, [...(this.finishers.get(id) ?? []), resolve]));
  }

  private schedule(state: KeyState, at: number): void {
    if (state.dueAt !== null && state.dueAt <= at) return;
    state.dueAt = at;
    this.heap.push(keyString(state.key), at);
    this.wake();
  }

  private async dispatchDue(): Promise<void> {
    for (;;) {
      if (!this.active || this.slotsUsed >= this.maxInFlight) return;
      const top = this.heap.peek();
      if (!top || top.at > this.options.clock.now()) return;
      this.heap.pop();
      const state = this.states.get(top.id);
      if (!state || state.dueAt !== top.at || state.running) continue;
      this.start(state);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private start(state: KeyState): void {
    const id = keyString(state.key);
    const controller = new AbortController();
    state.dueAt = null;
    state.running = true;
    this.running.set(id, controller);
    this.slotsUsed += 1;
    const started = this.options.clock.now();
    const slot = { held: true };
    const release = (): void => {
      if (slot.held) {
        slot.held = false;
        this.slotsUsed -= 1;
        this.wake();
      }
    };
    const timeout = new AbortController();
    void this.options.clock.sleep(this.options.reconcileTimeoutMs ?? 300_000, timeout.signal).then(
      () => {
        controller.abort(new Error(`reconcile of ${id} timed out`));
        release();
      },
      () => undefined,
    );
    void this.options.reconciler
      .reconcile(state.key, controller.signal)
      .then(
        (result) => this.finish(state, started, { result }),
        (error: unknown) => this.finish(state, started, { error }),
      )
      .finally(() => {
        timeout.abort(FINISHED);
        release();
      });
  }

  private finish(state: KeyState, started: number, outcome: { result?: ReconcileResult; error?: unknown }): void {
    const id = keyString(state.key);
    state.running = false;
    this.running.delete(id);
    for (const resolve of this.finishers.get(id) ?? []) resolve();
    this.finishers.delete(id);
    const kind = outcome.error === undefined ? 'ok' : outcome.error instanceof TerminalError ? 'terminal' : 'error';
    this.options.onDone?.(state.key, kind, this.options.clock.now() - started);
    if (this.states.get(id) !== state) return;
    if (state.forgotten) {
      this.states.delete(id);
      return;
    }
    this.reschedule(state, this.nextAt(state, kind, outcome), kind === 'terminal');
  }

  /** Schedules the next run: the outcome's time, or sooner when a change came in while it ran. */
  private reschedule(state: KeyState, next: number | null, terminal: boolean): void {
    const pending = state.pending;
    state.pending = null;
    if (pending && (!terminal || pending.change)) {
      if (pending.change) {
        state.terminal = false;
        state.failures = 0;
      }
      this.schedule(state, Math.min(pending.at, next ?? pending.at));
    } else if (next !== null) this.schedule(state, next);
  }

  /** When the policy is next due after this outcome: requeue-after (at most its interval), backoff, or never. */
  private nextAt(
    state: KeyState,
    kind: 'ok' | 'error' | 'terminal',
    outcome: { result?: ReconcileResult; error?: unknown },
  ): number | null {
    const now = this.options.clock.now();
    if (kind === 'terminal') {
      state.terminal = true;
      this.options.logger.warn(
        { namespace: state.key.namespace, policy: state.key.name, err: (outcome.error as Error).message },
        'reconcile failed for good; waiting for a change of the policy',
      );
      return null;
    }
    if (kind === 'error') {
      state.failures += 1;
      const delay = backoffDelay(
        state.failures,
        this.options.backoffBaseMs ?? 1000,
        this.options.backoffMaxMs ?? 60_000,
      );
      const where = { namespace: state.key.namespace, policy: state.key.name, err: errorLine(outcome.error) };
      if (isApiUnavailable(outcome.error))
        this.options.logger.warn(
          { ...where, record: 'api-unavailable', failures: state.failures, retryInMs: delay },
          'api-unavailable: the API server did not serve the reconcile; nothing is actuated until it does; retrying',
        );
      else this.options.logger.warn({ ...where, retryInMs: delay }, 'reconcile failed; retrying');
      return now + delay;
    }
    state.failures = 0;
    const asked = outcome.result?.requeueAfterMs ?? null;
    if (asked === null) return null;
    const interval = this.options.intervalOf(state.key);
    const delay = Math.max(0, interval === undefined ? asked : Math.min(asked, interval));
    return now + delay + Math.floor(this.random() * JITTER * delay);
  }

  private wake(): void {
    this.asleep = false;
    if (!this.wakeUp.signal.aborted) this.wakeUp.abort(WOKEN);
  }

  /** Sleeps until the next entry is due or something changes (an add, a freed slot, a stop). */
  private async sleepUntilNext(): Promise<void> {
    if (this.stopped) return;
    this.wakeUp = new AbortController();
    const top = this.heap.peek();
    const canDispatch = this.active && this.slotsUsed < this.maxInFlight && top !== undefined;
    const signal = this.wakeUp.signal;
    this.asleep = true;
    if (canDispatch)
      await this.options.clock.sleep(Math.max(0, top.at - this.options.clock.now()), signal).catch(() => undefined);
    else await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.asleep = false;
  }
}

const mergePending = (a: Pending | null, b: Pending): Pending =>
  a ? { at: Math.min(a.at, b.at), change: a.change || b.change } : b;
