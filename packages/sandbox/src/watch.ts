import type { ServerResponse } from 'node:http';
import { randomIn, Timers, wallClock, type SandboxClock } from './clock.js';
import { atVersion } from './objects.js';
import { apiVersionOf, storageKey, type GroupResource, type ResourceType } from './registry.js';
import { parseFieldSelector, parseLabelSelector, type Selector } from './selectors.js';
import { badRequest, failure } from './status.js';
import type { Store, StoreEvent } from './store.js';
import type { KObject } from './types.js';

export interface WatchRequest {
  type: ResourceType;
  version: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds?: number;
  /** What a client sees of each object (a Table row for `kubectl get -w`); the object itself by default. */
  present?: (object: KObject) => unknown;
}

interface OpenWatch {
  res: ServerResponse;
  close(): void;
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** How much a watch may have unsent before its client counts as gone. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** The watch event a client of `req` sees for a store event (selector transitions included), if any. */
function translate(event: StoreEvent, matches: Selector): WatchEventType | undefined {
  const now = matches(event.object);
  if (event.type !== 'MODIFIED') return now ? event.type : undefined;
  const before = event.prev ? matches(event.prev) : true;
  if (now) return before ? 'MODIFIED' : 'ADDED';
  return before ? 'DELETED' : undefined;
}

/** Serves `?watch=1` streams: replay from a resourceVersion, live events, bookmarks, timeouts, 410. */
export interface WatchTiming {
  clock?: SandboxClock;
  /** How often watches with allowWatchBookmarks get a BOOKMARK. */
  bookmarkIntervalMs: number;
  /** A watch without timeoutSeconds is closed by the server after a random lifetime in this range; [0, 0] never. */
  lifetimeMs?: readonly [number, number];
}

export class WatchHub {
  private readonly open = new Set<OpenWatch>();
  private readonly timers: Timers;

  constructor(
    private readonly store: Store,
    private readonly timing: WatchTiming,
  ) {
    this.timers = new Timers(timing.clock ?? wallClock);
  }

  /** The server's time limit of one watch (ms), or 0 for none. */
  private lifetime(req: WatchRequest): number {
    if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0) return req.timeoutSeconds * 1000;
    return randomIn(this.timing.lifetimeMs ?? [0, 0]);
  }

  get count(): number {
    return this.open.size;
  }

  /** Ends every open watch (as a proxy dropping connections would); returns how many. */
  dropAll(abrupt = false): number {
    const n = this.open.size;
    for (const w of [...this.open]) {
      if (abrupt) w.res.destroy();
      w.close();
    }
    return n;
  }

  serve(res: ServerResponse, req: WatchRequest): void {
    const gr = storageKey(req.type);
    const labels = parseLabelSelector(req.labelSelector);
    const fields = parseFieldSelector(req.fieldSelector, req.type.kind, req.type.group);
    const inScope = (o: KObject): boolean =>
      !req.type.namespaced || req.namespace === undefined || o.metadata.namespace === req.namespace;
    const matches: Selector = (o) => {
      const seen = atVersion(o, req.type, req.version);
      return inScope(seen) && labels(seen) && fields(seen);
    };
    const backlog = this.backlog(req, gr, matches);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const send = (type: WatchEventType, object: unknown): void => {
      if (res.writableEnded) return;
      // a client that stops reading is cut off, as the API server drops a watcher that falls behind
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      else res.write(`${JSON.stringify({ type, object })}\n`);
    };
    if (backlog === 'gone') {
      send(
        'ERROR',
        failure(
          410,
          'Expired',
          `too old resource version: ${req.resourceVersion ?? ''} (${this.store.oldestWatchable})`,
        ),
      );
      res.end();
      return;
    }
    const present = req.present ?? ((o: KObject) => o);
    for (const [type, object] of backlog) send(type, present(atVersion(object, req.type, req.version)));
    const bookmark = (annotations?: Record<string, string>): void => {
      send('BOOKMARK', {
        kind: req.type.kind,
        apiVersion: apiVersionOf(req.type.group, req.version),
        metadata: { resourceVersion: String(this.store.resourceVersion), ...(annotations ? { annotations } : {}) },
      });
    };
    if (req.sendInitialEvents && req.allowWatchBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    this.stream(res, req, {
      gr,
      matches,
      send: (type, object) => send(type, type === 'BOOKMARK' ? object : present(object as KObject)),
      bookmark,
    });
  }

  private stream(
    res: ServerResponse,
    req: WatchRequest,
    s: { gr: string; matches: Selector; send: (t: WatchEventType, o: unknown) => void; bookmark: () => void },
  ): void {
    const unsubscribe = this.store.subscribe((event) => {
      if (event.gr !== s.gr) return;
      const type = translate(event, s.matches);
      if (type) s.send(type, atVersion(event.object, req.type, req.version));
    });
    const stop = new AbortController();
    if (req.allowWatchBookmarks) this.timers.every(this.timing.bookmarkIntervalMs, () => s.bookmark(), stop.signal);
    const lifetime = this.lifetime(req);
    // the API server ends a watch cleanly when its time is up; the client lists or resumes and watches again
    if (lifetime > 0) this.timers.after(lifetime, () => watch.close(), stop.signal);
    const watch: OpenWatch = {
      res,
      close: () => {
        if (!this.open.delete(watch)) return;
        unsubscribe();
        stop.abort();
        if (!res.writableEnded) res.end();
      },
    };
    this.open.add(watch);
    res.on('close', () => watch.close());
  }

  /** Initial events: the current objects (no resourceVersion, or "0"), or the history after it. */
  private backlog(req: WatchRequest, gr: GroupResource, matches: Selector): Array<[WatchEventType, KObject]> | 'gone' {
    const rv = req.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0' || req.sendInitialEvents) {
      return this.store
        .list(gr)
        .filter(matches)
        .map((o) => ['ADDED', o]);
    }
    if (!/^[0-9]+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`);
    const events = this.store.eventsSince(gr, Number(rv));
    if (!events) return 'gone';
    const out: Array<[WatchEventType, KObject]> = [];
    for (const e of events) {
      const type = translate(e, matches);
      if (type) out.push([type, e.object]);
    }
    return out;
  }
}
