import type { ProviderKind, ProviderSpec } from '../../pipeline/policy/schema.js';
import { hasUserinfo, scrubUserinfo } from '../../pipeline/policy/urls.js';
import { providerKind } from '../../adapters/providers/provider.js';
import { systemClock } from '../../lib/clock/clock.js';
import { UsageError } from './usage-error.js';

/** A time option: an RFC 3339 time, Unix seconds, or `now` (also when absent). */
export function parseTime(text: string | undefined, option: string): Date {
  if (text === undefined || text === 'now') return new Date(systemClock.now());
  const date = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`${option}: expected an RFC 3339 time or Unix seconds, got ${JSON.stringify(text)}`);
  return date;
}

/** The field of each provider kind that --provider-url replaces. */
const ADDRESS_FIELD: Record<ProviderKind, string> = {
  prometheus: 'address',
  datadog: 'address',
  newRelic: 'address',
  web: 'url',
  cloudWatch: 'endpoint',
};

/** A provider spec with `--provider-url` as its address (a port-forward, say); never a URL with credentials. */
export function withAddress(spec: ProviderSpec, url: string | undefined): ProviderSpec {
  if (url === undefined) return spec;
  if (!/^https?:\/\/[^/]/.test(url))
    throw new UsageError(`--provider-url: expected an http(s) URL, got ${JSON.stringify(scrubUserinfo(url))}`);
  if (hasUserinfo(url))
    throw new UsageError(
      '--provider-url: a URL may not carry credentials (user:password@); use the Secret refs of the provider',
    );
  const kind = providerKind(spec);
  return { [kind]: { ...spec[kind], [ADDRESS_FIELD[kind]]: url } };
}
