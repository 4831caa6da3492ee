import { describe, expect, it } from 'vitest';
import { Store } from '../src/store.js';
import type { KObject, OwnerReference } from '../src/types.js';

const ref = (uid: string): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid });
let rv = 0;
const pod = (name: string, uid: string, owners: string[] = []): KObject => ({
  metadata: {
    name,
    namespace: 'ns',
    uid,
    resourceVersion: String(++rv),
    ...(owners.length ? { ownerReferences: owners.map(ref) } : {}),
  },
});
const names = (store: Store, owner: string) => store.dependentsOf(owner).map((d) => d.object.metadata.name);

describe('the store’s owner and UID indexes', () => {
  it('finds dependents by owner UID through writes that add, keep, move and drop references', () => {
    const store = new Store();
    store.put('/pods', pod('a', 'ua', ['rs1']), 'ADDED');
    store.put('/pods', pod('b', 'ub', ['rs1', 'rs2']), 'ADDED');
    store.put('/pods', pod('c', 'uc'), 'ADDED');
    expect(names(store, 'rs1')).toEqual(['a', 'b']);
    expect(names(store, 'rs2')).toEqual(['b']);
    // a write that keeps its owner keeps its place among the owner's dependents (as a list does)
    store.put('/pods', pod('a', 'ua', ['rs1']), 'MODIFIED');
    expect(names(store, 'rs1')).toEqual(['a', 'b']);
    expect(store.dependentsOf('rs1')[0]?.object.metadata.resourceVersion).toBe(String(rv));
    store.put('/pods', pod('b', 'ub', ['rs2']), 'MODIFIED');
    expect(names(store, 'rs1')).toEqual(['a']);
    store.put('/pods', pod('c', 'uc', ['rs2']), 'MODIFIED');
    expect(names(store, 'rs2')).toEqual(['b', 'c']);
    const last = pod('b', 'ub', ['rs2']);
    store.remove('/pods', last, last);
    expect(names(store, 'rs2')).toEqual(['c']);
    expect(store.byUID('ub')).toBeUndefined();
    expect(store.byUID('uc')).toEqual({
      gr: '/pods',
      object: expect.objectContaining({ metadata: expect.anything() }),
    });
    expect(store.dependentsOf(undefined)).toEqual([]);
  });

  it('forgets a dropped resource’s objects and indexes a loaded snapshot', () => {
    const store = new Store();
    store.put('/pods', pod('a', 'ua', ['rs1']), 'ADDED');
    store.dropResource('/pods');
    expect(names(store, 'rs1')).toEqual([]);
    expect(store.byUID('ua')).toBeUndefined();
    const copy = new Store();
    copy.load([{ gr: '/pods', object: pod('d', 'ud', ['rs9']) }], rv);
    expect(names(copy, 'rs9')).toEqual(['d']);
    expect(copy.byUID('ud')?.object.metadata.name).toBe('d');
  });
});
