import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { RequestObserver } from '../../adapters/kube/requests.js';

type WatchCallback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;
type DoneCallback = (err: unknown) => void;

export interface WatchOptions {
  /** Asked of the server: it ends the watch after this long and the informer re-watches (client-go uses 5–10 min). */
  timeoutSeconds: number;
  /** Told of each sign of life of the watch: a line (event or bookmark), or a clean end from the server. */
  onContact(): void;
  observer?: RequestObserver;
  /**
   * Turns an object of an event into the typed model the list call returns (dates as Date), so the cache holds one
   * shape.
   */
  decode?: (object: unknown) => unknown;
}

const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * client-node's Watch, asking for bookmarks (client-node's ListWatch never does) and a server-side
 * timeout, and reporting every line received, so that a supervisor can tell a live watch from a silent
 * one. A watch its caller aborted reports nothing more: client-node's Watch calls `done` with an
 * AbortError even then, which its ListWatch takes for a failure.
 */
export class ObservedWatch extends Watch {
  /** Whether a watch is established (headers received, not ended): only such a watch can be silent. */
  established = false;
  private closed = false;
  private readonly live = new Set<AbortController>();

  constructor(
    config: KubeConfig,
    private readonly options: WatchOptions,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, unknown>,
    callback: WatchCallback,
    done: DoneCallback,
  ): Promise<AbortController> {
    const query = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.options.timeoutSeconds };
    let abortedByCaller = false;
    let ended = false;
    const slot: { handed?: AbortController } = {};
    const onDone: DoneCallback = (err) => {
      if (ended) return;
      ended = true;
      this.established = false;
      if (slot.handed) this.live.delete(slot.handed);
      if (abortedByCaller) return;
      if (err === null || err === undefined) this.options.onContact();
      else this.options.observer?.('watch', codeOf(err));
      done(err);
    };
    const onLine: WatchCallback = (phase, object, watchObj) => {
      if (!abortedByCaller) this.options.onContact();
      const decode = this.options.decode;
      callback(phase, decode && OBJECT_EVENTS.has(phase) ? decode(object) : object, watchObj);
    };
    const controller = await super.watch(path, query, onLine, onDone);
    const handed = callerAbort(controller, () => (abortedByCaller = true));
    slot.handed = handed;
    if (this.closed) handed.abort();
    else if (!ended) {
      this.established = true;
      this.live.add(handed);
      this.options.observer?.('watch', '200');
    }
    return handed;
  }

  /**
   * Ends every watch for good, also one whose request is still on its way: client-node's ListWatch.stop()
   * only aborts a watch that has already answered, and one answering later would stay open.
   */
  close(): void {
    this.closed = true;
    for (const controller of this.live) controller.abort();
    this.live.clear();
  }
}

/** The controller handed to ListWatch: its abort marks the watch as ended on purpose. */
function callerAbort(controller: AbortController, mark: () => void): AbortController {
  return {
    signal: controller.signal,
    abort(reason?: unknown) {
      mark();
      controller.abort(reason);
    },
  };
}

/** The HTTP status of a failed watch, or 'error' when none came (reset, refused). */
function codeOf(err: unknown): string {
  const code = (err as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? String(code) : 'error';
}
