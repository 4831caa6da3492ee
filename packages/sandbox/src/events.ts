import type { KObject } from './types.js';

/**
 * events.k8s.io/v1 Events are stored as core/v1 Events, as the API server does: both APIs show the
 * same objects. The field names differ; these are the pairs of the API server's conversion.
 */
const PAIRS: Array<[core: string, events: string]> = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function rename(object: KObject, from: 0 | 1, apiVersion: string): KObject {
  const out: KObject = { ...object, apiVersion };
  for (const pair of PAIRS) {
    const [src, dst] = [pair[from], pair[1 - from] as string];
    delete out[src];
    if (object[src] !== undefined) out[dst] = object[src];
  }
  return out;
}

export const eventsCodec = {
  toStorage: (object: KObject): KObject => rename(object, 1, 'v1'),
  fromStorage: (object: KObject): KObject => rename(object, 0, 'events.k8s.io/v1'),
};
