import { describe, expect, it } from 'vitest';
import { CLEAN, deliveryReport } from './deliveries.js';
import type { Received } from './receiver.js';

const msg = (id: string | undefined, status: number | null = 200, type = `t-${id}`): Received => ({
  path: '/generic',
  headers: id === undefined ? {} : { 'webhook-id': id },
  body: JSON.stringify({ type, id }),
  status,
});

// The checker of the two-replica test (test/e2e/notify-failover.test.ts): each way a delivery can go wrong is caught.
describe('deliveryReport: exactly one message per action id, after dedupe', () => {
  it.each([
    ['every id once, in order', [msg('a'), msg('b'), msg('c')], {}],
    [
      'a kill mid-send: the unanswered try is resent with the same id',
      [msg('a'), msg('b', null), msg('b'), msg('c')],
      {},
    ],
    ['acknowledged just before a kill, sent again once', [msg('a'), msg('b'), msg('b'), msg('c')], {}],
    ['a missing id', [msg('a'), msg('c')], { missing: ['b'] }],
    ['an id never answered 200', [msg('a'), msg('b', 500), msg('b', null), msg('c')], { missing: ['b'] }],
    [
      'the second replica sent its own message (a new id)',
      [msg('a'), msg('b'), msg('b2'), msg('c')],
      { unexpected: ['b2'] },
    ],
    ['a duplicate beyond the one resend', [msg('a'), msg('a'), msg('b'), msg('b'), msg('c')], { repeated: ['a', 'b'] }],
    [
      'the same id carrying another event',
      [msg('a'), msg('b'), msg('b', 200, 'other'), msg('c')],
      { conflicting: ['b'] },
    ],
    ['a message without webhook-id', [msg('a'), msg('b'), msg(undefined), msg('c')], { unnamed: 1 }],
    ['out of order', [msg('b'), msg('a'), msg('c')], { inOrder: false }],
  ])('%s', (_name, received, problems) => {
    expect(deliveryReport(['a', 'b', 'c'], received)).toEqual({ ...CLEAN, ...problems });
  });
});
