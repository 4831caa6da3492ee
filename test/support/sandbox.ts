import { ApiException, type V1Deployment } from '@kubernetes/client-node';
import { startSandbox, type Sandbox, type SandboxOptions, type Timing } from '@kubestead/sandbox';
import { runOutput } from './run-dir.js';

/** A JSON response body of arbitrary shape: read with property access; use the helpers below to map lists. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies of many kinds, asserted field by field
export type Body = any;

export interface StatusCauseBody {
  reason: string;
  message: string;
  field?: string;
}

/** The `field reason` pairs of a Status's causes, sorted. */
export function causeFields(status: Body): string[] {
  const causes = (status as { details?: { causes?: StatusCauseBody[] } }).details?.causes ?? [];
  return causes.map((c) => `${c.field ?? ''} ${c.reason}`).sort();
}

/** The `name` of each element of a list (or `metadata.name`, for objects). */
export function namesOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return (list as Array<{ name?: string; metadata?: { name?: string } }>).map((e) => e.name ?? e.metadata?.name ?? '');
}

/**
 * Realistic timing, shortened for tests: controllers lag 10–60 ms, pods terminate over 300 ms, and
 * the server closes every watch after 2–5 s so that each client's re-watch path runs.
 * `timing: false` (or a partial Timing) per test.
 */
export const TEST_TIMING: Timing = { controllerLagMs: [10, 60], podGraceMs: 300, watchLifetimeMs: [2000, 5000] };

/**
 * A sandbox with short delays and realistic (shortened) timing, for tests. At close, every object the product could have
 * written (Events, statuses, audit ConfigMaps, reports: all but Secrets, where tests plant secrets) is kept for the
 * end-of-suite secret scan (test/support/secret-scan.ts).
 */
export async function testSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const timing = options.timing === false ? false : { ...TEST_TIMING, ...options.timing };
  const sandbox = await startSandbox({
    workloads: { readyDelayMs: 60, resyncMs: 100 },
    bookmarkIntervalMs: 200,
    ...options,
    timing,
  });
  const close = sandbox.close.bind(sandbox);
  sandbox.close = async () => {
    keepObjects(sandbox);
    await close();
  };
  return sandbox;
}

/** The sandbox's objects but Secrets, one JSON line each, into the run directory. */
export function keepObjects(sandbox: Pick<Sandbox, 'api'>): void {
  const objects = sandbox.api.store.dump().filter((o) => !o.gr.endsWith('/secrets'));
  runOutput('cluster-objects').append(objects.map((o) => JSON.stringify(o)).join('\n'));
}

/** The HTTP status and parsed Status body of a failed client-node call. */
export async function failureOf(call: Promise<unknown>): Promise<{ code: number; body: Body }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) {
      const raw = (error as ApiException<unknown>).body;
      const body = typeof raw === 'string' ? JSON.parse(raw) : raw;
      return { code: error.code, body: body };
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** A raw HTTPS request to the sandbox (for what the typed clients cannot send). */
export async function raw(
  sandbox: Sandbox,
  method: string,
  path: string,
  init: { body?: string | Buffer; contentType?: string; token?: string | null } = {},
): Promise<{ status: number; body: Body; headers: Headers; text: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (init.token !== null) headers.Authorization = `Bearer ${init.token ?? sandbox.token}`;
    if (init.contentType) headers['Content-Type'] = init.contentType;
    if (init.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(init.body));
    const req = request(`${sandbox.url}${path}`, { method, ca: sandbox.caCert, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: res.statusCode ?? 0, body, headers: h, text });
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/** A Deployment of one `app: <name>` pod (container `app`, image `app:1`), with pod spec and spec fields merged in. */
export function deploymentBody(
  name: string,
  podSpec: Record<string, unknown> = {},
  spec: Record<string, unknown> = {},
): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'app:1' }], ...podSpec },
      },
      ...spec,
    },
  };
}
