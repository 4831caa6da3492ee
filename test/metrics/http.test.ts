import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/adapters/providers/http.js';
import { HostPolicy } from '../../src/adapters/providers/hosts.js';
import { ManualClock } from '../support/manual-clock.js';
import { waitFor } from '../support/wait.js';
import { droppingServer, json, startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
const clients: HttpClient[] = [];
async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}
function client(options: ConstructorParameters<typeof HttpClient>[0] = {}): HttpClient {
  const c = new HttpClient({ random: () => 0, ...options });
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const get = (url: string) => ({ url: new URL(url), method: 'GET' as const });

describe('bounded fetch', () => {
  it('retries a 503 once and returns the second answer', async () => {
    let n = 0;
    const s = await server((_req, res) =>
      ++n === 1 ? json(res, 503, { error: 'busy' }) : json(res, 200, { ok: true }),
    );
    const res = await client().request(get(`${s.url}/x`), { timeoutMs: 2000 });
    expect(res).toMatchObject({ status: 200, attempts: 2, body: '{"ok":true}' });
    expect(s.requests).toHaveLength(2);
  });

  it('gives up after 2 attempts of 5xx and says so', async () => {
    const s = await server((_req, res) => json(res, 502, 'bad gateway'));
    const res = await client().request(get(s.url), { timeoutMs: 2000 });
    expect(res).toMatchObject({ status: 502, attempts: 2 });
    expect(s.requests).toHaveLength(2);
  });

  it('does not retry a 4xx other than 429', async () => {
    const s = await server((_req, res) => json(res, 400, { error: 'bad' }));
    const res = await client().request(get(s.url), { timeoutMs: 2000 });
    expect(res).toMatchObject({ status: 400, attempts: 1 });
    expect(s.requests).toHaveLength(1);
  });

  it('honours a short Retry-After inside the budget: waits exactly that long on its clock, then retries', async () => {
    let n = 0;
    const s = await server((_req, res) =>
      ++n === 1 ? json(res, 429, {}, { 'retry-after': '0.3' }) : json(res, 200, {}),
    );
    const clock = new ManualClock();
    const pending = client({ clock }).request(get(s.url), { timeoutMs: 3000 });
    await waitFor(() => clock.waiting === 1, 8000, 'the client to wait for Retry-After');
    await clock.advance(299);
    expect(clock.waiting).toBe(1);
    expect(s.requests).toHaveLength(1);
    await clock.advance(1);
    await expect(pending).resolves.toMatchObject({ status: 200, attempts: 2 });
    expect(s.requests).toHaveLength(2);
  });

  it('does not retry when Retry-After is beyond the budget, and holds further requests until then', async () => {
    const s = await server((_req, res) => json(res, 429, { errors: ['slow down'] }, { 'retry-after': '30' }));
    const c = client();
    const res = await c.request(get(s.url), { timeoutMs: 1000 });
    expect(res.status).toBe(429);
    expect(res.attempts).toBe(1);
    expect(res.note).toMatch(/Retry-After 30s is beyond the .*s left of the budget/);
    await expect(c.request(get(`${s.url}/again`), { timeoutMs: 1000 })).rejects.toThrow(
      /rate-limited: the backend asked not to be queried before .*; not sent/,
    );
    expect(s.requests).toHaveLength(1);
  });

  it('holds an origin back until its Retry-After time, on its clock', async () => {
    const s = await server((_req, res) => json(res, 429, {}, { 'retry-after': '30' }));
    const clock = new ManualClock();
    const c = client({ clock });
    await c.request(get(s.url), { timeoutMs: 1000 });
    await clock.advance(29_999);
    await expect(c.request(get(s.url), { timeoutMs: 1000 })).rejects.toThrow(
      'rate-limited: the backend asked not to be queried before 2026-11-26T10:00:30.000Z; not sent',
    );
    await clock.advance(1);
    await expect(c.request(get(s.url), { timeoutMs: 1000 })).resolves.toMatchObject({ status: 429 });
    expect(s.requests).toHaveLength(2);
  });

  it('uses X-RateLimit-Reset on a 429 without Retry-After', async () => {
    const s = await server((_req, res) =>
      json(res, 429, {}, { 'x-ratelimit-reset': '45', 'x-ratelimit-remaining': '0' }),
    );
    const res = await client().request(get(s.url), { timeoutMs: 1000 });
    expect(res.note).toMatch(/Retry-After 45s/);
    expect(s.requests).toHaveLength(1);
  });

  it('retries a dropped connection once, then names the error', async () => {
    const dropping = await droppingServer();
    try {
      await expect(client().request(get(`${dropping.url}/`), { timeoutMs: 2000 })).rejects.toThrow(
        /^network error: .* after 2 attempts$/,
      );
      expect(dropping.connections()).toBe(2);
    } finally {
      await dropping.close();
    }
  });

  it('aborts a hung endpoint at the timeout', async () => {
    const s = await server(() => undefined);
    await expect(client().request(get(s.url), { timeoutMs: 500 })).rejects.toThrow(/^timeout after 0.5s$/);
    expect(s.requests).toHaveLength(1);
  });

  it('aborts a body that stalls half-way at the timeout', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    });
    await expect(client().request(get(s.url), { timeoutMs: 500 })).rejects.toThrow(/^timeout after 0.5s$/);
  });

  it('stops reading a body past the cap (no Content-Length)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const push = (left: number): void => {
        if (left === 0 || res.destroyed) {
          res.end();
          return;
        }
        res.write(chunk, () => push(left - 1));
      };
      push(200); // 12.5 MiB if read to the end
    });
    await expect(client().request(get(s.url), { timeoutMs: 5000 })).rejects.toThrow(
      /^response too large: over the 4 MiB cap \(stopped reading at \d+ bytes\)$/,
    );
  });

  it('refuses a body whose Content-Length is over the cap without reading it', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': String(200 * 1024 * 1024) });
      res.write('x');
    });
    await expect(client().request(get(s.url), { timeoutMs: 2000 })).rejects.toThrow(
      'response too large: Content-Length 209715200 bytes is over the 4 MiB cap',
    );
  });

  it('refuses redirects and never contacts the target', async () => {
    const target = await server((_req, res) => json(res, 200, {}));
    const s = await server((_req, res) => {
      res.writeHead(302, { location: `${target.url}/latest/meta-data?token=x` });
      res.end();
    });
    await expect(client().request(get(s.url), { timeoutMs: 2000 })).rejects.toThrow(
      `HTTP 302 redirect to ${target.url}/latest/meta-data refused: redirects are not followed`,
    );
    expect(target.requests).toHaveLength(0);
  });

  it('cancels on the tick signal', async () => {
    const controller = new AbortController();
    const s = await server(() => controller.abort()); // cancelled while the request is in flight
    await expect(client().request(get(s.url), { timeoutMs: 5000, signal: controller.signal })).rejects.toThrow(
      'aborted: the tick was cancelled',
    );
  });
});

describe('host allow-list (no SSRF)', () => {
  it('refuses the cloud metadata address even without a list, before sending anything', async () => {
    const c = client();
    await expect(c.request(get('http://169.254.169.254/latest/meta-data/'), { timeoutMs: 1000 })).rejects.toThrow(
      'address refused: 169.254.169.254 resolves to 169.254.169.254, a link-local (cloud metadata) address not explicitly allowed',
    );
    await expect(c.request(get('http://[::ffff:169.254.169.254]/'), { timeoutMs: 1000 })).rejects.toThrow(
      /address refused: .*link-local/,
    );
    expect(c.sent).toBe(0);
  });

  it('refuses hosts that are not on the list', async () => {
    const c = client({ allowedHosts: ['*.monitoring.svc', 'prometheus.example.com:9090'] });
    await expect(c.request(get('https://kubernetes.default.svc/api'), { timeoutMs: 1000 })).rejects.toThrow(
      "address refused: kubernetes.default.svc is not in the operator's allowedHosts",
    );
    await expect(c.request(get('http://prometheus.example.com:9091/'), { timeoutMs: 1000 })).rejects.toThrow(
      "not in the operator's allowedHosts",
    );
    await expect(c.request(get('http://monitoring.svc/'), { timeoutMs: 1000 })).rejects.toThrow(
      "not in the operator's allowedHosts",
    );
    expect(c.sent).toBe(0);
  });

  it('checks the addresses a name resolves to when connecting: an allowed name pointing at loopback is refused', async () => {
    const s = await server((_req, res) => json(res, 200, {}));
    const c = client({ allowedHosts: ['localhost'] });
    await expect(c.request(get(`http://localhost:${s.port}/`), { timeoutMs: 1000 })).rejects.toThrow(
      /^address refused: localhost resolves to (127\.0\.0\.1|::1), a loopback, unspecified or multicast address not explicitly allowed$/,
    );
    expect(s.requests).toHaveLength(0);
  });

  it('lets explicitly listed loopback addresses through', async () => {
    const s = await server((_req, res) => json(res, 200, { ok: 1 }));
    expect(
      (await client({ allowedHosts: [`127.0.0.1:${s.port}`] }).request(get(s.url), { timeoutMs: 1000 })).status,
    ).toBe(200);
    expect(
      (
        await client({ allowedHosts: ['localhost', '127.0.0.0/8', '::1'] }).request(
          get(`http://localhost:${s.port}/`),
          { timeoutMs: 1000 },
        )
      ).status,
    ).toBe(200);
    await expect(client({ allowedHosts: ['127.0.0.1:1'] }).request(get(s.url), { timeoutMs: 1000 })).rejects.toThrow(
      "not in the operator's allowedHosts",
    );
  });

  it.each([
    ['http://prom.monitoring.svc:9090/', true],
    ['http://a.b.monitoring.svc/', true],
    ['http://monitoring.svc.evil.com/', false],
    ['http://10.1.2.3:9090/', true],
    ['http://10.1.2.3:9091/', false],
    ['http://192.168.0.1/', true],
    ['http://192.168.1.1/', false],
  ])('name check of %s → %s', (url, allowed) => {
    const policy = new HostPolicy(['*.monitoring.svc', '10.1.2.3:9090', '192.168.0.0/24']);
    const run = () => policy.checkUrl(new URL(url));
    if (allowed) expect(run).not.toThrow();
    else expect(run).toThrow();
  });

  it('refuses loopback and unspecified IP literals under a list unless listed', () => {
    const policy = new HostPolicy(['*.monitoring.svc', '0.0.0.0/0']);
    expect(() => policy.checkUrl(new URL('http://127.0.0.1/'))).not.toThrow();
    const strict = new HostPolicy(['10.0.0.0/8']);
    expect(() => strict.checkAddress('x', '127.0.0.1')).toThrow(/loopback/);
    expect(() => strict.checkAddress('x', '::')).toThrow(/loopback/);
    expect(() => strict.checkAddress('x', 'fe80::1')).toThrow(/link-local/);
    expect(() => strict.checkAddress('x', '::ffff:7f00:1')).toThrow(/127\.0\.0\.1/);
    expect(() => strict.checkAddress('x', '10.2.3.4')).not.toThrow();
  });
});
