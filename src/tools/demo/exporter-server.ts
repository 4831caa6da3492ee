import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRACKS, type Behaviour, type ShopTraffic, type Track } from './exporter.js';
import { sendJson, serveLocal, type LocalServer } from './http.js';

const KEYS: ReadonlyArray<keyof Behaviour> = ['requestsPerSecond', 'errorRate', 'latencySeconds'];

/** A JSON body of behaviour fields, or the reason it is not one. */
function parseChange(body: string): Partial<Behaviour> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'the body is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the body must be a JSON object';
  const unknown = Object.keys(parsed).filter((k) => !(KEYS as string[]).includes(k));
  if (unknown.length) return `unknown field ${JSON.stringify(unknown[0])}; the fields are ${KEYS.join(', ')}`;
  return parsed;
}

function putTrack(traffic: ShopTraffic, track: Track, body: string, res: ServerResponse): void {
  const change = parseChange(body);
  if (typeof change === 'string') return sendJson(res, 400, { error: change });
  try {
    sendJson(res, 200, traffic.set(track, change));
  } catch (error) {
    sendJson(res, 400, { error: (error as Error).message });
  }
}

function route(traffic: ShopTraffic, req: IncomingMessage, body: string, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'GET' && path === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(traffic.exposition());
    return;
  }
  if (req.method === 'GET' && path === '/tracks')
    return sendJson(res, 200, Object.fromEntries(TRACKS.map((t) => [t, traffic.behaviour(t)])));
  const track = /^\/tracks\/([a-z]+)$/.exec(path)?.[1];
  if (req.method === 'PUT' && track !== undefined) {
    if (!(TRACKS as readonly string[]).includes(track))
      return sendJson(res, 404, { error: `no track "${track}"; the tracks are ${TRACKS.join(', ')}` });
    return putTrack(traffic, track as Track, body, res);
  }
  sendJson(res, 404, {
    error:
      'GET /metrics, GET /tracks, PUT /tracks/{primary|canary} ' +
      '{"errorRate":0.2,"latencySeconds":0.8,"requestsPerSecond":50}',
  });
}

/**
 * The shop's exporter: GET /metrics (Prometheus text: http_requests_total and the
 * http_request_duration_seconds histogram by track=primary|canary), GET /tracks, and
 * PUT /tracks/{track} to change a track's error rate, latency or traffic.
 */
export function startShopExporter(traffic: ShopTraffic, port = 0): Promise<LocalServer> {
  return serveLocal((req, body, res) => route(traffic, req, body, res), port);
}
