import { parseDuration } from '../../pipeline/policy/duration.js';
import type { OptionSpecs } from './args.js';
import { UsageError } from './usage-error.js';

/**
 * `kubestead run`'s Lease timing, for the leader Lease (--leader-elect) and the membership Leases
 * (--shards auto) alike: lease duration > renew deadline > retry period, as client-go has them.
 */
export const LEASE_OPTIONS = {
  'lease-duration': {
    type: 'string',
    value: 'DURATION',
    description: 'a Lease not renewed for this long has lapsed: others take over (default 15s, whole seconds)',
  },
  'renew-deadline': {
    type: 'string',
    value: 'DURATION',
    description: 'a replica stops acting when its own renew is this old (default 10s; below --lease-duration)',
  },
  'retry-period': {
    type: 'string',
    value: 'DURATION',
    description: 'how often each replica renews its Lease and reads the others (default 2s; below --renew-deadline)',
  },
} as const satisfies OptionSpecs;

type LeaseValues = { [K in keyof typeof LEASE_OPTIONS]?: string };

/** The Lease timing in ms; only the flags given are set, the others keep the operator's defaults. */
export interface LeaseTiming {
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

const LEASE_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 } as const;

function durationMs(flag: keyof LeaseValues, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds === null || seconds <= 0)
    throw new UsageError(`--${flag}: expected a positive duration like 2s or 500ms, got ${JSON.stringify(text)}`);
  return seconds * 1000;
}

const shown = (ms: number): string => `${ms / 1000}s`;

/**
 * --lease-duration, --renew-deadline, --retry-period. The Lease records its duration in whole
 * seconds (leaseDurationSeconds), so --lease-duration is whole seconds; each must be shorter than
 * the one before, with the defaults standing in for the flags not given.
 */
export function leaseTimingFromFlags(values: LeaseValues): LeaseTiming {
  const given: LeaseTiming = {
    leaseDurationMs: durationMs('lease-duration', values['lease-duration']),
    renewDeadlineMs: durationMs('renew-deadline', values['renew-deadline']),
    retryPeriodMs: durationMs('retry-period', values['retry-period']),
  };
  const lease = given.leaseDurationMs ?? LEASE_DEFAULTS.leaseDurationMs;
  const renew = given.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
  const retry = given.retryPeriodMs ?? LEASE_DEFAULTS.retryPeriodMs;
  if (lease % 1000 !== 0)
    throw new UsageError(`--lease-duration: expected whole seconds (the Lease records seconds), got ${shown(lease)}`);
  if (renew >= lease)
    throw new UsageError(`--renew-deadline (${shown(renew)}) must be shorter than --lease-duration (${shown(lease)})`);
  if (retry >= renew)
    throw new UsageError(`--retry-period (${shown(retry)}) must be shorter than --renew-deadline (${shown(renew)})`);
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = given;
  return {
    ...(leaseDurationMs === undefined ? {} : { leaseDurationMs }),
    ...(renewDeadlineMs === undefined ? {} : { renewDeadlineMs }),
    ...(retryPeriodMs === undefined ? {} : { retryPeriodMs }),
  };
}
