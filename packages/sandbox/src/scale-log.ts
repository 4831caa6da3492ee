import type { Api, Caller } from './api.js';
import type { SandboxClock } from './clock.js';
import type { ResourceType } from './registry.js';
import { getPath, type KObject } from './types.js';

/** One change of an object's replicas (through /scale or its spec), and who made it. */
export interface ScaleWrite {
  time: number;
  kind: string;
  namespace: string;
  name: string;
  from: number;
  to: number;
  /** The writer: a client's user, or the sandbox controller's own (the HPA controller's service account). */
  user: string;
}

/**
 * Every change of the replicas of an object with a `/scale` subresource, by any writer: clients over HTTP and the
 * sandbox's own controllers (whose writes never pass through the request log). For tests that bound writes per
 * minute and look for two writers undoing each other.
 */
export class ScaleLog {
  private entries: ScaleWrite[] = [];

  constructor(private readonly limit = 10_000) {}

  /** A log of the replicas changes of every update of `api` from now on. */
  static of(api: Api, clock: SandboxClock): ScaleLog {
    const log = new ScaleLog();
    log.watch(api, clock);
    return log;
  }

  private watch(api: Api, clock: SandboxClock): void {
    api.updateHooks.push((type: ResourceType, old: KObject, next: KObject, caller: Caller) => {
      const path = type.scale?.specReplicasPath;
      if (!path) return;
      const from = Number(getPath(old, path) ?? 0);
      const to = Number(getPath(next, path) ?? 0);
      if (from === to) return;
      this.add({
        time: clock.now(),
        kind: type.kind,
        namespace: next.metadata.namespace ?? '',
        name: next.metadata.name ?? '',
        from,
        to,
        user: caller.user.username,
      });
    });
  }

  add(entry: ScaleWrite): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries = this.entries.slice(-Math.floor(this.limit / 2));
  }

  /** The changes, oldest first, optionally only those of one namespace and name. */
  list(match: { namespace?: string; name?: string } = {}): ScaleWrite[] {
    return this.entries.filter(
      (e) =>
        (match.namespace === undefined || e.namespace === match.namespace) &&
        (match.name === undefined || e.name === match.name),
    );
  }

  clear(): void {
    this.entries = [];
  }
}
