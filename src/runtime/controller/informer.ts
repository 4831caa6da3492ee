import {
  ListWatch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCallback,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock/clock.js';
import type { RequestObserver } from '../../adapters/kube/requests.js';
import { Backoff } from './backoff.js';
import { ObservedWatch } from './watch.js';

/** What to watch: a path, the list call that matches it, and optional selectors. */
export interface InformerSpec<T extends KubernetesObject> {
  /** Short name, in logs and metrics: `policies`, `pods`, … */
  name: string;
  path: string;
  list(): Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Turns a watched object into the shape the list returns (see ObservedWatch). */
  decode?: (object: unknown) => unknown;
  /** What the cache keeps of each object, listed or watched (default: all of it). */
  keep?: (object: T) => T;
}

export interface SupervisionOptions {
  kubeConfig: KubeConfig;
  clock: Clock;
  logger: Logger;
  observer?: RequestObserver;
  /** Server-side timeout of each watch (default 300 s); the informer re-watches after it. */
  watchTimeoutSeconds?: number;
  /**
   * No sign of life for this long: the watchdog restarts the watch, and the informer counts as stale (default timeout +
   * 60 s).
   */
  silentAfterMs?: number;
  /** How often the watchdog looks (default 1 s). */
  checkEveryMs?: number;
  /** Restart backoff after a failure (default 1 s doubling to 30 s). */
  backoff?: Backoff;
}

/**
 * A client-node ListWatch under supervision. client-node 1.4's informer stops for good after one failed
 * list or re-watch (it only relists by itself after a 410): this restarts it with capped backoff, asks
 * for bookmarks, and restarts a watch that has been silent too long. Its staleness (time since the
 * last sign of life) is what /metrics and /readyz report.
 */
export class SupervisedInformer<T extends KubernetesObject> {
  readonly store: ListWatch<T>;
  private readonly watch: ObservedWatch;
  private readonly backoff: Backoff;
  private readonly silentAfterMs: number;
  private lastContact = Number.NEGATIVE_INFINITY;
  private listed = false;
  private running = false;
  private readonly stopping = new AbortController();
  /** How many times the informer was restarted (after a failure or a silent watch). */
  restarts = 0;

  constructor(
    readonly spec: InformerSpec<T>,
    private readonly options: SupervisionOptions,
  ) {
    const timeoutSeconds = options.watchTimeoutSeconds ?? 300;
    this.silentAfterMs = options.silentAfterMs ?? timeoutSeconds * 1000 + 60_000;
    this.backoff = options.backoff ?? new Backoff(1000, 30_000);
    const { decode, keep } = spec;
    const decodeAndKeep = keep ? (object: unknown): unknown => keep((decode ? decode(object) : object) as T) : decode;
    this.watch = new ObservedWatch(options.kubeConfig, {
      timeoutSeconds,
      onContact: () => this.contact(),
      observer: options.observer,
      decode: decodeAndKeep,
    });
    this.store = new ListWatch<T>(
      spec.path,
      this.watch,
      () => this.list(),
      false,
      spec.labelSelector,
      spec.fieldSelector,
    );
    this.store.on('error', (err: unknown) => this.failed(err));
  }

  on(verb: 'add' | 'update' | 'delete', callback: ObjectCallback<T>): void {
    this.store.on(verb, callback);
  }

  start(): void {
    this.running = true;
    void this.store.start();
    void this.watchdog();
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('informer stopped'));
    this.running = false;
    await this.store.stop();
    this.watch.close();
  }

  /** Listed at least once, running, and heard from within the silence limit. */
  synced(): boolean {
    return this.listed && this.running && this.staleMs() <= this.silentAfterMs;
  }

  /** A watch is established (answered, not ended). */
  watching(): boolean {
    return this.watch.established;
  }

  /** Milliseconds since the last sign of life (Infinity before the first list). */
  staleMs(): number {
    return this.options.clock.now() - this.lastContact;
  }

  private async list(): Promise<KubernetesListObject<T>> {
    const list = await this.spec.list();
    if (this.spec.keep) list.items = list.items.map(this.spec.keep);
    this.listed = true;
    this.contact();
    return list;
  }

  private contact(): void {
    this.lastContact = this.options.clock.now();
    this.backoff.reset();
  }

  private failed(err: unknown): void {
    if (this.stopping.signal.aborted) return;
    this.running = false;
    const delayMs = this.backoff.next();
    this.options.logger.warn(
      { informer: this.spec.name, err: describe(err), retryInMs: delayMs },
      'informer stopped; restarting it',
    );
    void this.options.clock.sleep(delayMs, this.stopping.signal).then(
      () => this.restart(),
      () => undefined,
    );
  }

  private restart(): void {
    this.restarts += 1;
    this.running = true;
    void this.store.start();
  }

  /** Restarts a watch that is established but has said nothing (not even a bookmark) for too long. */
  private async watchdog(): Promise<void> {
    const every = this.options.checkEveryMs ?? 1000;
    while (!this.stopping.signal.aborted) {
      try {
        await this.options.clock.sleep(every, this.stopping.signal);
      } catch {
        return;
      }
      if (this.running && this.watch.established && this.staleMs() > this.silentAfterMs) await this.restartSilent();
    }
  }

  private async restartSilent(): Promise<void> {
    this.options.logger.warn(
      { informer: this.spec.name, silentMs: this.staleMs() },
      'watch silent for too long; restarting it',
    );
    await this.store.stop();
    this.restart();
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
