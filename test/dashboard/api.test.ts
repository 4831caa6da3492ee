import { request } from 'node:http';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '@kubestead/sandbox';
import { systemClock } from '../../src/lib/clock/clock.js';
import { silentLogger } from '../../src/lib/log/logger.js';
import { kubeClients } from '../../src/adapters/kube/clients.js';
import { POLICY_RESOURCE } from '../../src/adapters/kube/names.js';
import { kubeconfigAccess } from '../../src/tools/dashboard/access.js';
import { startDashboard, type Dashboard } from '../../src/tools/dashboard/server.js';
import { clusterSource, type DashboardSource } from '../../src/tools/dashboard/source.js';
import { readDetail } from '../../src/tools/view/read.js';
import { auditSandbox, createPolicy } from '../audit/cluster.js';
import { waitFor } from '../support/wait.js';

const STARTED = '2026-12-07T10:00:00.000Z';

/** A request to the dashboard: status, headers and body (HEAD and 405s too, which fetch hides nothing of). */
function call(
  url: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
    const headers = body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': body.length };
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The server-sent events of a stream, as they come. */
async function* events(url: string, signal: AbortSignal): AsyncGenerator<{ event: string; data: string }> {
  const res = await fetch(url, { signal });
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) yield { event, data };
    }
  }
}

describe('the dashboard API against the sandbox', () => {
  let sandbox: Sandbox;
  let source: DashboardSource;
  let dashboard: Dashboard;
  const setStatus = (namespace: string, name: string, value: Record<string, unknown>) =>
    sandbox.client(CustomObjectsApi).patchNamespacedCustomObjectStatus({
      ...POLICY_RESOURCE,
      namespace,
      name,
      body: [{ op: 'add', path: '/status', value }],
    });

  beforeAll(async () => {
    sandbox = await auditSandbox();
    await createPolicy(sandbox, 'shop', 'checkout');
    await createPolicy(sandbox, 'shop', 'cart');
    await createPolicy(sandbox, 'other', 'web');
    await setStatus('shop', 'checkout', {
      phase: 'Progressing',
      currentStep: 1,
      canaryWeight: 25,
      effectiveWeight: 24.5,
      stepStartedAt: STARTED,
      checks: { errors: { status: 'ok', value: 0.01, min: null, max: 0.05 } },
      lastDecision: { action: 'advance', reasons: [{ rule: 'advance', message: 'soaked 3s' }], time: STARTED },
    });
    const kubeConfig = sandbox.kubeConfig();
    source = clusterSource({
      clients: kubeClients(kubeConfig),
      kubeConfig,
      namespace: 'shop',
      clock: systemClock,
      logger: silentLogger,
    });
    dashboard = await startDashboard({ source, access: kubeconfigAccess, clock: systemClock, logger: silentLogger });
  });
  afterAll(async () => {
    await dashboard?.close();
    await source?.close();
    await sandbox?.close();
  });

  it('lists the policies of its namespace as summaries, sorted, and serves each one as `status -o json` does', async () => {
    const list = await call(`${dashboard.url}api/v1/policies`);
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toBe('application/json');
    const body = JSON.parse(list.text) as { kind: string; items: Array<Record<string, unknown>> };
    expect(body.kind).toBe('PolicyStatusList');
    expect(body.items.map((i) => `${String(i.namespace)}/${String(i.name)}`)).toEqual(['shop/cart', 'shop/checkout']);
    expect(body.items[1]).toMatchObject({
      kind: 'PolicyStatusDocument',
      phase: 'Progressing',
      step: { index: 1, label: '2/4', count: 4 },
      weight: { asked: 25, given: 24.5 },
      lastDecision: { action: 'advance' },
    });
    const one = await call(`${dashboard.url}api/v1/namespaces/shop/policies/checkout`);
    expect(one.status).toBe(200);
    // One home for the document: the API serves what readDetail builds for `kubestead status -o json`.
    expect(JSON.parse(one.text)).toEqual(
      JSON.parse(JSON.stringify(await readDetail(kubeClients(sandbox.kubeConfig()), 'shop', 'checkout'))),
    );
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])(
    'refuses %s on every path with 405 (read-only)',
    async (method) => {
      for (const path of [
        '',
        'api/v1/policies',
        'api/v1/namespaces/shop/policies/checkout',
        'policies/shop/checkout',
      ]) {
        const res = await call(`${dashboard.url}${path}`, method);
        expect(res.status, `${method} /${path}`).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD');
      }
    },
  );

  it('answers HEAD without a body, and 404 for a policy or a page that is not there', async () => {
    const head = await call(`${dashboard.url}api/v1/policies`, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.text).toBe('');
    const missing = await call(`${dashboard.url}api/v1/namespaces/shop/policies/nope`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({
      code: 404,
      message: 'rolloutpolicy "nope" not found in namespace "shop"',
    });
    expect((await call(`${dashboard.url}nowhere`)).status).toBe(404);
  });

  it('sends each change of a policy as a server-sent event with its new summary', async () => {
    const stop = new AbortController();
    const stream = events(`${dashboard.url}api/v1/events`, stop.signal);
    const seen = (async () => {
      for await (const e of stream) {
        const summary = JSON.parse(e.data) as { name: string; phase: string | null };
        if (e.event === 'policy' && summary.name === 'cart' && summary.phase === 'Paused') return summary;
      }
      return undefined;
    })();
    // The stream is open once the server has answered; the informer has listed by then or soon after.
    await waitFor(async () => (await source.summaries()).length === 2, 8000, 'the informer to list');
    await setStatus('shop', 'cart', { phase: 'Paused', currentStep: 2 });
    expect(await seen).toMatchObject({ namespace: 'shop', name: 'cart', phase: 'Paused', step: { label: '3/4' } });
    stop.abort();
  });
});
