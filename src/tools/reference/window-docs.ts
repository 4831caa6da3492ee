/** One field's entry (FieldDoc in policy-docs.ts). */
export interface FieldDoc {
  description: string;
  example?: string;
}

const windowDocs = (kind: 'deny' | 'allow', meaning: string, example: string): Record<string, FieldDoc> => ({
  [`spec.windows[].${kind}`]: { description: meaning, example },
  [`spec.windows[].${kind}.schedule`]: {
    description:
      'When the window starts: a cron expression (5 fields, or 6 with seconds first; names, ranges and steps as ' +
      'in crontab), read by croner. `validate` refuses a bad one.',
    example: 'schedule: "0 16 * * 5"',
  },
  [`spec.windows[].${kind}.duration`]: {
    description: 'How long the window lasts from each start: above 0, at most 168h.',
    example: 'duration: 64h',
  },
  [`spec.windows[].${kind}.timeZone`]: {
    description:
      'The IANA time zone the schedule is read in (daylight saving followed); `validate` refuses an unknown one.',
    example: 'timeZone: Europe/Berlin',
  },
});

/** `spec.windows` (docs/operating.md, "Freeze and release windows"), in the reference's terms. */
export const WINDOW_DOCS: Record<string, FieldDoc> = {
  'spec.windows': {
    description:
      'Freeze and release windows: inside a `deny` window, or outside every `allow` window when any exists, no ' +
      'canary starts, no step advances and nothing is promoted by itself; rollbacks, pauses and `kubestead promote` ' +
      'still go ahead. The state is the snapshot fact `window` and the status condition `Frozen`.',
    example: 'windows: [{deny: {schedule: "0 16 * * 5", duration: 64h, timeZone: Europe/Berlin}}]',
  },
  'spec.windows[]': { description: 'One window: exactly one of `deny` or `allow`.' },
  ...windowDocs(
    'deny',
    'A freeze: from each start of the schedule, for its duration.',
    'deny: {schedule: "0 16 * * 5", duration: 64h}',
  ),
  ...windowDocs(
    'allow',
    'A release window: with any, the rollout moves forward only inside one.',
    'allow: {schedule: "0 9 * * 1-4", duration: 8h}',
  ),
};
