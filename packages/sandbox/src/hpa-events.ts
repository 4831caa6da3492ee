import type { Api } from './api.js';
import { newEvent } from './pods.js';
import { isRecord, type KObject } from './types.js';

/** The Events of the HorizontalPodAutoscaler controller, as kube-controller-manager's recorder writes them. */
export interface HpaEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** The source component of a real HPA controller's Events. */
export const HPA_COMPONENT = 'horizontal-pod-autoscaler';

/** `SuccessfulRescale`, as the real controller words it: `New size: 8; reason: cpu resource … above target`. */
export function rescaleEvent(size: number, reason: string): HpaEvent {
  return { type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${size}; reason: ${reason}` };
}

/**
 * Records an Event about the HPA. As client-go's recorder does, a repeat (same object, reason and message)
 * is one Event whose `count` and `lastTimestamp` go up, not a new Event every sync period.
 */
export function recordHpaEvent(api: Api, hpa: KObject, event: HpaEvent): void {
  const events = api.registry.get('', 'events');
  if (!events) return;
  const existing = api.store
    .list('/events', hpa.metadata.namespace)
    .find(
      (e) =>
        e.reason === event.reason &&
        e.message === event.message &&
        isRecord(e.involvedObject) &&
        e.involvedObject.uid === hpa.metadata.uid,
    );
  if (existing) {
    const count = typeof existing.count === 'number' ? existing.count + 1 : 2;
    api.saveAsSystem(events, { ...existing, count, lastTimestamp: api.now() });
    return;
  }
  api.createAsSystem(events, newEvent(hpa, { ...event, component: HPA_COMPONENT }, api.now()));
}
