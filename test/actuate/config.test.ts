import type { V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { configRefs, withConfigCopies, type ConfigRef } from '../../src/pipeline/actuate/config.js';
import { revisionOf, templateHash } from '../../src/runtime/tick/revision.js';

const app = (extra: Partial<V1PodSpec['containers'][number]> = {}) => ({ name: 'app', image: 'app:1', ...extra });
const template = (spec: Partial<V1PodSpec>): V1PodTemplateSpec => ({ spec: { containers: [app()], ...spec } });
const map = (name: string): ConfigRef => ({ kind: 'ConfigMap', name });
const secret = (name: string): ConfigRef => ({ kind: 'Secret', name });

const EVERY_PLACE = template({
  volumes: [
    { name: 'a', configMap: { name: 'volume-map' } },
    { name: 'b', secret: { secretName: 'volume-secret' } },
    {
      name: 'c',
      projected: { sources: [{ configMap: { name: 'projected-map' } }, { secret: { name: 'projected-secret' } }] },
    },
    { name: 'd', emptyDir: {} },
  ],
  initContainers: [app({ name: 'init', envFrom: [{ configMapRef: { name: 'init-map' } }] })],
  containers: [
    app({
      envFrom: [{ configMapRef: { name: 'env-from-map' } }, { secretRef: { name: 'env-from-secret' } }],
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'key-map', key: 'a' } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 'key-secret', key: 'b' } } },
        { name: 'C', valueFrom: { configMapKeyRef: { name: 'volume-map', key: 'c' } } },
        { name: 'D', value: 'plain' },
      ],
    }),
  ],
});

describe('the ConfigMaps and Secrets a pod template reads', () => {
  it.each([
    ['nothing referenced', template({}), true, []],
    [
      'every place, ConfigMaps only (Secrets not tracked)',
      EVERY_PLACE,
      false,
      ['env-from-map', 'init-map', 'key-map', 'projected-map', 'volume-map'].map(map),
    ],
    [
      'every place, Secrets too',
      EVERY_PLACE,
      true,
      [
        ...['env-from-map', 'init-map', 'key-map', 'projected-map', 'volume-map'].map(map),
        ...['env-from-secret', 'key-secret', 'projected-secret', 'volume-secret'].map(secret),
      ],
    ],
    [
      'a ConfigMap and a Secret of the same name are two objects',
      template({
        volumes: [
          { name: 'a', configMap: { name: 'x' } },
          { name: 'b', secret: { secretName: 'x' } },
        ],
      }),
      true,
      [map('x'), secret('x')],
    ],
  ])('%s', (_, given, secrets, expected) => {
    expect(configRefs(given, secrets)).toEqual(expected);
  });
});

describe("primary's template points at the copies", () => {
  it('renames every tracked reference to <name>-primary and leaves the rest, the input untouched', () => {
    const before = structuredClone(EVERY_PLACE);
    const tracked = configRefs(EVERY_PLACE, false);
    const primary = withConfigCopies(EVERY_PLACE, tracked);
    expect(EVERY_PLACE).toEqual(before);
    expect(configRefs(primary, true)).toEqual([
      ...['env-from-map', 'init-map', 'key-map', 'projected-map', 'volume-map'].map((n) => map(`${n}-primary`)),
      ...['env-from-secret', 'key-secret', 'projected-secret', 'volume-secret'].map(secret),
    ]);
    expect(primary.spec?.containers[0]?.env?.[2]?.valueFrom?.configMapKeyRef).toEqual({
      name: 'volume-map-primary',
      key: 'c',
    });
    expect(primary.spec?.volumes?.[3]).toEqual({ name: 'd', emptyDir: {} });
  });
});

describe('the revision of a template and its config', () => {
  const a = { ...map('a'), data: { x: '1', y: '2' } };
  const b = { ...secret('b'), data: { token: 'c2VjcmV0' } };
  const t = template({});
  it.each([
    ['the order of the objects does not count', [a, b], [b, a], true],
    ['the order of the keys does not count', [{ ...a, data: { y: '2', x: '1' } }], [a], true],
    ['a changed value counts', [a], [{ ...a, data: { x: '1', y: '3' } }], false],
    ['an added key counts', [a], [{ ...a, data: { ...a.data, z: '' } }], false],
    ['the kind counts', [a], [{ ...a, kind: 'Secret' as const }], false],
    ['the name counts', [a], [{ ...a, name: 'other' }], false],
    ['tracked config counts', [], [a], false],
  ])('%s', (_, left, right, equal) => {
    expect(revisionOf(t, left) === revisionOf(t, right)).toBe(equal);
  });

  it('is the template hash without tracked config, so existing revisions do not move', () => {
    expect(revisionOf(t, [])).toBe(templateHash(t));
    expect(revisionOf(t, [a])).not.toBe(templateHash(t));
    expect(revisionOf(template({ containers: [app({ image: 'app:2' })] }), [a])).not.toBe(revisionOf(t, [a]));
  });

  it('is a short hex hash in which no value appears', () => {
    const revision = revisionOf(t, [b]);
    expect(revision).toMatch(/^[0-9a-f]{10}$/);
    expect(revision).not.toContain('c2VjcmV0');
  });
});
