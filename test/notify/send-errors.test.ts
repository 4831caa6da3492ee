import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/adapters/providers/http.js';
import { slackBody } from '../../src/adapters/notifiers/formats.js';
import { NotificationError, NotificationSender } from '../../src/adapters/notifiers/send.js';
import type { RolloutEvent } from '../../src/adapters/notifiers/event.js';

const TOKEN = 'XOXB9f8e7d6c5b4a3';
const SIG = 'SIGq1w2e3r4t5y6u7';
const PASSWORD = 'PWz9x8c7v6b5';
const secretPath = `/services/T0001/B0002/${TOKEN}?sig=${SIG}`;

const event: RolloutEvent = {
  type: 'kubestead.rollout.promoted',
  version: 1,
  id: 'a1',
  time: '2026-01-01T00:00:00Z',
  policy: { namespace: 'shop', name: 'checkout' },
  revision: 'rev-a',
  step: 3,
  stepLabel: '4/4',
  weight: 100,
  reasons: [],
  checks: {},
  actor: null,
};

const listen = async <S extends Server | NetServer>(server: S): Promise<S> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};
const portOf = (server: Server | NetServer) => (server.address() as AddressInfo).port;

describe('a failed notification send never names its URL or a token', { timeout: 30_000 }, () => {
  let http: Server;
  let hanging: Server;
  let resetting: NetServer;
  let closedPort: number;

  beforeAll(async () => {
    http = await listen(
      createServer((req, res) => {
        if (req.url?.startsWith('/redirect'))
          res.writeHead(302, { location: `https://hooks.example.com${secretPath}` }).end();
        else res.writeHead(200).end('ok');
      }),
    );
    hanging = await listen(createServer(() => undefined));
    resetting = await listen(createNetServer((socket) => socket.destroy()));
    const closed = await listen(createNetServer());
    closedPort = portOf(closed);
    await new Promise((resolve) => closed.close(resolve));
  });
  afterAll(async () => {
    hanging.closeAllConnections();
    await Promise.all([http, hanging, resetting].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  // Each case: the URL (its path and query carry the tokens, as Slack's and Teams' do) and what the message says.
  const cases: [string, () => string, RegExp][] = [
    [
      'DNS: no such host',
      () => `https://hooks.kubestead-test.invalid${secretPath}`,
      /network error: .*ENOTFOUND|EAI_AGAIN/,
    ],
    ['connection refused', () => `http://127.0.0.1:${closedPort}${secretPath}`, /network error: .*ECONNREFUSED/],
    ['connection reset', () => `http://127.0.0.1:${portOf(resetting)}${secretPath}`, /network error/],
    ['TLS: not a TLS server', () => `https://127.0.0.1:${portOf(http)}${secretPath}`, /network error/],
    ['timeout', () => `http://127.0.0.1:${portOf(hanging)}${secretPath}`, /timeout after/],
    ['redirect to a URL with the token', () => `http://127.0.0.1:${portOf(http)}/redirect${secretPath}`, /redirect/],
    ['refused host (link-local)', () => `http://169.254.169.254${secretPath}`, /address refused/],
    ['credentials in the URL', () => `http://user:${PASSWORD}@127.0.0.1:${closedPort}${secretPath}`, /./],
    ['not http(s)', () => `ftp://127.0.0.1${secretPath}`, /not http\(s\)/],
    ['not a URL', () => `${TOKEN} ${SIG}`, /not a valid URL/],
  ];

  it.each(cases)('%s', async (_name, urlOf, expected) => {
    const url = urlOf();
    const sender = new NotificationSender(new HttpClient());
    const error = await sender.send(url, slackBody(event, 'text'), {}, { timeoutMs: 500 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotificationError);
    const { message, stack } = error as NotificationError;
    expect(message).toMatch(expected);
    for (const text of [message, stack ?? '', JSON.stringify(error)]) {
      for (const secret of [TOKEN, SIG, PASSWORD, url, 'B0002']) expect(text).not.toContain(secret);
    }
  });
});
