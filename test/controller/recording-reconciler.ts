import { type Reconciler, type ReconcileResult } from '../../src/runtime/controller/reconciler.js';
import { keyString, type PolicyKey } from '../../src/adapters/kube/names.js';

export interface Call {
  key: string;
  signal: AbortSignal;
  /** Settles the call when the behaviour is `manual`. */
  finish(result: ReconcileResult | Error): void;
  done: boolean;
}

/** What a recorded reconcile does: answer at once with a result or an error, or wait for the test (`manual`). */
export type Behaviour = ReconcileResult | Error | 'manual';

/** A test double of the tick: records every call, answers as told per key (default: no requeue). */
export class RecordingReconciler implements Reconciler {
  readonly calls: Call[] = [];
  readonly forgotten: string[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  /** Reconciles running now, and the most ever running at once (overall and per key). */
  running = 0;
  maxRunning = 0;
  maxRunningPerKey = 0;
  private readonly perKey = new Map<string, number>();

  constructor(private readonly fallback: Behaviour = { requeueAfterMs: null }) {}

  behave(key: string, behaviour: Behaviour): void {
    this.behaviours.set(key, behaviour);
  }

  callsOf(key: string): Call[] {
    return this.calls.filter((c) => c.key === key);
  }

  reconcile(key: PolicyKey, signal: AbortSignal): Promise<ReconcileResult> {
    const id = keyString(key);
    const behaviour = this.behaviours.get(id) ?? this.fallback;
    this.enter(id);
    return new Promise<ReconcileResult>((resolve, reject) => {
      const call: Call = {
        key: id,
        signal,
        done: false,
        finish: (result) => {
          if (call.done) return;
          call.done = true;
          this.leave(id);
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      this.calls.push(call);
      if (behaviour !== 'manual') queueMicrotask(() => call.finish(behaviour));
    });
  }

  forget(key: PolicyKey): void {
    this.forgotten.push(keyString(key));
  }

  private enter(id: string): void {
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const n = (this.perKey.get(id) ?? 0) + 1;
    this.perKey.set(id, n);
    this.maxRunningPerKey = Math.max(this.maxRunningPerKey, n);
  }

  private leave(id: string): void {
    this.running -= 1;
    this.perKey.set(id, (this.perKey.get(id) ?? 1) - 1);
  }
}
