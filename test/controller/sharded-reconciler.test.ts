import { describe, expect, it } from 'vitest';
import { shardedReconciler } from '../../src/runtime/controller/shards.js';
import type { Reconciler } from '../../src/runtime/controller/reconciler.js';

/** A membership stub: which UIDs are owned, which may be acted on, and the ticks in flight. */
function gate(owned: string[], acting: string[]) {
  const inFlight = new Map<string, number>();
  return {
    inFlight,
    mayAct: (uid: string) => acting.includes(uid),
    owns: (uid: string) => owned.includes(uid),
    begin: (uid: string) => {
      inFlight.set(uid, (inFlight.get(uid) ?? 0) + 1);
      return () => inFlight.set(uid, (inFlight.get(uid) ?? 1) - 1);
    },
  };
}

describe('shardedReconciler', () => {
  const uids: Record<string, string> = { a: 'uid-a', b: 'uid-b', c: 'uid-c' };
  const ticked: string[] = [];
  const inner: Reconciler = {
    reconcile: (key) => {
      ticked.push(key.name);
      if (key.name === 'c') return Promise.reject(new Error('tick failed'));
      return Promise.resolve({ requeueAfterMs: 30_000 });
    },
    forget: () => undefined,
  };

  it.each([
    ['a', { requeueAfterMs: 30_000 }, true],
    ['b', { requeueAfterMs: 2000 }, false],
    ['d', { requeueAfterMs: null }, false],
  ])('policy %s: %j (ticked: %s)', async (name, result, tickedIt) => {
    ticked.length = 0;
    const shards = gate(['uid-a', 'uid-b'], ['uid-a']);
    const reconciler = shardedReconciler(inner, shards, (key) => uids[key.name], 2000);
    await expect(reconciler.reconcile({ namespace: 'shop', name }, new AbortController().signal)).resolves.toEqual(
      result,
    );
    expect(ticked.includes(name)).toBe(tickedIt);
  });

  it('a tick that throws still ends its in-flight mark (the old owner can drain)', async () => {
    const shards = gate(['uid-c'], ['uid-c']);
    const reconciler = shardedReconciler(inner, shards, (key) => uids[key.name], 2000);
    await expect(reconciler.reconcile({ namespace: 'shop', name: 'c' }, new AbortController().signal)).rejects.toThrow(
      'tick failed',
    );
    expect(shards.inFlight.get('uid-c')).toBe(0);
  });
});
