import { ApiException, type CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { surgeOnly } from '../../src/pipeline/actuate/actuator.js';
import { ConfigObjects } from '../../src/adapters/kube/config-objects.js';

describe('surgeOnly: the fast revert rolls primary without taking a ready pod away first', () => {
  it.each([
    ['none given', undefined, 1],
    ['the default 25 %', { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, '25%'],
    ['a surge of 0', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }, 1],
    ['a surge of 0 %', { type: 'RollingUpdate', rollingUpdate: { maxSurge: '0%', maxUnavailable: 2 } }, 1],
    ['Recreate', { type: 'Recreate' }, 1],
    ['a surge of 3', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3 } }, 3],
  ])('%s', (_name, strategy, maxSurge) => {
    expect(surgeOnly(strategy)).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable: 0 } });
  });
});

describe("a failed write of a Secret's copy", () => {
  const VALUE = 'c2VjcmV0LXZhbHVlLTEyMw==';
  const failing = (code: number) =>
    ({
      readNamespacedSecret: () => Promise.reject(new ApiException(404, 'not found', '{}', {})),
      createNamespacedSecret: () =>
        Promise.reject(new ApiException(code, `Secret is invalid: data: ${VALUE}`, `{"message":"${VALUE}"}`, {})),
    }) as unknown as CoreV1Api;
  const body = { metadata: { name: 'token-primary', namespace: 'shop' }, data: { token: VALUE } };

  it('names the Secret and the HTTP status, never the API answer', async () => {
    const error = await new ConfigObjects(failing(422), 'Secret').put(body).catch((e: unknown) => e);
    expect(String(error)).toBe('Error: writing Secret shop/token-primary: HTTP 422');
  });

  it('passes a 403 on, for the Forbidden condition', async () => {
    const error = await new ConfigObjects(failing(403), 'Secret').put(body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
  });
});
