import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { errorLine, isApiUnavailable } from '../../src/adapters/kube/errors.js';

const status = (code: number, message: string): ApiException<string> =>
  new ApiException(
    code,
    `HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: …\nHeaders: {}`,
    JSON.stringify({ kind: 'Status', message }),
    {},
  );
const socket = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:6443`), { code });

describe('the API server unavailable (row 9): which errors, and in one line', () => {
  it.each<[string, unknown, boolean, string]>([
    [
      '503',
      status(503, 'The server is currently unable to handle the request'),
      true,
      'HTTP 503: The server is currently unable to handle the request',
    ],
    ['500', status(500, 'Internal error occurred: etcd'), true, 'HTTP 500: Internal error occurred: etcd'],
    ['429', status(429, 'Too many requests'), true, 'HTTP 429: Too many requests'],
    ['connection refused', socket('ECONNREFUSED'), true, 'connect ECONNREFUSED 127.0.0.1:6443'],
    [
      'refused, as the cause of a fetch error',
      new TypeError('fetch failed', { cause: socket('ECONNREFUSED') }),
      true,
      'fetch failed',
    ],
    [
      '409: a conflict, not an outage',
      status(409, 'the object has been modified'),
      false,
      'HTTP 409: the object has been modified',
    ],
    ['403: RBAC, not an outage', status(403, 'forbidden'), false, 'HTTP 403: forbidden'],
    ['404', status(404, 'not found'), false, 'HTTP 404: not found'],
    ['a plain error', new Error('bad policy\nsecond line'), false, 'bad policy'],
  ])('%s', (_what, error, unavailable, line) => {
    expect(isApiUnavailable(error)).toBe(unavailable);
    expect(errorLine(error)).toBe(line);
  });
});
