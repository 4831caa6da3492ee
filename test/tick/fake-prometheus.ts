import { json, startServer, type TestServer } from '../metrics/helpers.js';

/**
 * A local HTTP server answering the Prometheus query API with a value the test sets (a stand-in
 * where the real Prometheus is not the point): a number, `garbage` (an HTML page), or `down` (503).
 */
export interface FakePrometheus {
  server: TestServer;
  url: string;
  set(value: number | 'garbage' | 'down'): void;
  /** Runs `action` when the next query arrives, before it is answered (something happening mid-tick). */
  beforeNextAnswer(action: () => Promise<void>): void;
  close(): Promise<void>;
}

export async function startFakePrometheus(initial: number): Promise<FakePrometheus> {
  let value: number | 'garbage' | 'down' = initial;
  let before: (() => Promise<void>) | undefined;
  const server = await startServer(async (_req, res) => {
    const action = before;
    before = undefined;
    await action?.();
    if (value === 'down')
      return json(res, 503, { status: 'error', errorType: 'unavailable', error: 'down for the test' });
    if (value === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>not prometheus</html>');
      return;
    }
    json(res, 200, {
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, String(value)] }] },
    });
  });
  return {
    server,
    url: server.url,
    set: (v) => {
      value = v;
    },
    beforeNextAnswer: (action) => {
      before = action;
    },
    close: () => server.close(),
  };
}
