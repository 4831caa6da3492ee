/**
 * The fault harness of the reliability scenarios (docs/reliability.md): API-server faults made
 * with the sandbox's own hooks (packages/sandbox/src/faults.ts: 409/429/500/503 or a hang on
 * chosen requests, watches dropped, history compacted) and its request log, so a scenario can both
 * cause a fault and count what the operator did about it.
 */
import type { Sandbox } from '@kubestead/sandbox';
import type { LogLine } from '../controller/process.js';
import { raw, type Body } from './sandbox.js';

/** A request as the sandbox's log keeps it. */
export type Logged = ReturnType<Sandbox['requests']['list']>[number];

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The writes (POST, PUT, PATCH, DELETE) the sandbox answered since `since`, matching `path` when given. */
export function writesSince(sandbox: Sandbox, since: number, path?: string | RegExp): Logged[] {
  return sandbox.requests.list({ since, path }).filter((r) => WRITES.has(r.method));
}

export interface Outage {
  /** When it began (the sandbox's request-log time). */
  readonly since: number;
  /** Ends it; returns every request answered during it. */
  end(): Logged[];
}

/**
 * The API server down: every request answered `code` (503 by default, as an apiserver behind a
 * load balancer with no healthy backend answers), and every open watch cut mid-stream.
 */
export function apiOutage(sandbox: Sandbox, code: 500 | 503 = 503): Outage {
  const since = Date.now();
  sandbox.faults.inject({ path: /./, respond: code, times: Infinity });
  sandbox.faults.dropWatches({ abrupt: true });
  return {
    since,
    end() {
      sandbox.faults.clear();
      return sandbox.requests.list({ since });
    },
  };
}

export interface Storm {
  /** Stops the other client; resolves once its last edit is answered. Returns how many edits it made. */
  stop(): Promise<number>;
}

/**
 * Another client editing an object every `everyMs` ms (a merge patch of one annotation, its value
 * the edit's number), so every write that carries an older resourceVersion meets a 409.
 */
export function editEvery(sandbox: Sandbox, path: string, everyMs: number, annotation: string): Storm {
  let edits = 0;
  let last: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    const patch: Body = { metadata: { annotations: { [annotation]: String(edits + 1) } } };
    const init = { body: JSON.stringify(patch), contentType: 'application/merge-patch+json' };
    last = raw(sandbox, 'PATCH', path, init).then((res) => {
      if (res.status === 200) edits += 1;
    });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await last;
      return edits;
    },
  };
}

/** The operator's log lines carrying `record` (its own records of faults: `api-unavailable`, …). */
export const recordsIn = (lines: LogLine[], record: string): LogLine[] => lines.filter((l) => l.record === record);
