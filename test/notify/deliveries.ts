import type { Received } from './receiver.js';

/** What one destination received against what it should have: every problem found, none when it is right. */
export interface DeliveryReport {
  /** Action ids the destination should have accepted and did not. */
  missing: string[];
  /** Accepted ids that are no action of the chain (or not for this destination): a replica's own message. */
  unexpected: string[];
  /** Ids accepted more than `allowedRepeats` times in all (a resend after a kill mid-send is one allowed repeat). */
  repeated: string[];
  /** Ids whose accepted bodies differ (the same id must always carry the same event). */
  conflicting: string[];
  /** Accepted requests without a webhook-id header. */
  unnamed: number;
  /** Whether the first accepted message of each id came in the chain's order. */
  inOrder: boolean;
}

const eventOf = (body: string): string => {
  const json = JSON.parse(body) as { type?: string; text?: string; id?: string };
  // Slack's and Teams' bodies carry no id or type: their text names the event.
  return JSON.stringify([json.type ?? null, json.id ?? null, json.text ?? null]);
};

/**
 * Checks exactly-once delivery per action: after dedupe by `webhook-id`, the accepted ids are exactly the
 * `expected` action ids (in their order), each always the same event, and repeated at most `allowedRepeats`
 * times in all (at-least-once across a kill: a message acknowledged just before the kill is sent again).
 */
export function deliveryReport(expected: string[], received: Received[], allowedRepeats = 1): DeliveryReport {
  const accepted = received.filter((r) => r.status === 200);
  const ids = accepted.map((r) => r.headers['webhook-id']).filter((id): id is string => typeof id === 'string');
  const bodies = new Map<string, Set<string>>();
  for (const r of accepted) {
    const id = r.headers['webhook-id'];
    if (typeof id === 'string') bodies.set(id, (bodies.get(id) ?? new Set()).add(eventOf(r.body)));
  }
  const first = [...new Set(ids)];
  const known = new Set(expected);
  const repeats = ids.length - first.length;
  return {
    missing: expected.filter((id) => !bodies.has(id)),
    unexpected: first.filter((id) => !known.has(id)),
    repeated: repeats > allowedRepeats ? first.filter((id) => ids.indexOf(id) !== ids.lastIndexOf(id)) : [],
    conflicting: first.filter((id) => bodies.get(id)!.size > 1),
    unnamed: accepted.length - ids.length,
    inOrder:
      JSON.stringify(first.filter((id) => known.has(id))) === JSON.stringify(expected.filter((id) => bodies.has(id))),
  };
}

/** The report of a right delivery. */
export const CLEAN: DeliveryReport = {
  missing: [],
  unexpected: [],
  repeated: [],
  conflicting: [],
  unnamed: 0,
  inOrder: true,
};
