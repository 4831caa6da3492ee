import { Cron } from 'croner';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { strict } from './strict.js';
import { doc } from './schema-parts.js';

/** The longest window: a week (a longer freeze is a paused policy, not a schedule). */
const MAX_WINDOW_SECONDS = 7 * 24 * 3600;

/** A time zone the runtime knows (IANA names such as Europe/Berlin, and UTC). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Why a cron expression is refused, or undefined when croner accepts it (5 or 6 fields, names, ranges, steps). */
export function cronError(schedule: string): string | undefined {
  try {
    new Cron(schedule, { timezone: 'UTC' });
    return undefined;
  } catch (error) {
    return `expected a cron expression such as "0 16 * * 5": ${(error as Error).message}`;
  }
}

const scheduleSchema = z.string().superRefine((schedule, ctx) => {
  const error = cronError(schedule);
  if (error) ctx.addIssue({ code: 'custom', message: error });
});

const timeZoneSchema = z.string().refine(isTimeZone, {
  error: (iss) => `unknown time zone ${JSON.stringify(iss.input)} (an IANA name such as Europe/Berlin, or UTC)`,
});

const windowDuration = z.string().superRefine((text, ctx) => {
  const seconds = parseDuration(text);
  if (seconds === null) {
    if (/^-/.test(text))
      ctx.addIssue({ code: 'custom', message: `a window's duration must be above 0, got "${text}"` });
    else
      ctx.addIssue({ code: 'custom', message: `expected a duration like 30m, 8h or 64h, got ${JSON.stringify(text)}` });
  } else if (seconds <= 0)
    ctx.addIssue({ code: 'custom', message: `a window's duration must be above 0, got "${text}"` });
  else if (seconds > MAX_WINDOW_SECONDS)
    ctx.addIssue({ code: 'custom', message: `must be at most 168h, got "${text}"` });
});

/** One window: from each time the cron schedule fires (in its time zone), for its duration. */
const windowSpecSchema = strict({
  schedule: scheduleSchema.meta(
    doc(
      'When the window starts: a cron expression (5 fields, or 6 with seconds first; names, ranges and steps as ' +
        'in crontab), read by croner. `validate` refuses a bad one.',
      'schedule: "0 16 * * 5"',
    ),
  ),
  duration: windowDuration.meta(
    doc('How long the window lasts from each start: above 0, at most 168h.', 'duration: 64h'),
  ),
  timeZone: timeZoneSchema
    .default('UTC')
    .meta(
      doc(
        'The IANA time zone the schedule is read in (daylight saving followed); `validate` refuses an unknown one.',
        'timeZone: Europe/Berlin',
      ),
    ),
});

/**
 * `spec.windows` (docs/operating.md, "Freeze and release windows"): `deny` windows in which nothing
 * is started, advanced or promoted, and `allow` windows outside of which (when any exists) the same holds.
 */
export const windowsSchema = z
  .array(
    strict({
      deny: windowSpecSchema
        .meta(
          doc(
            'A freeze: from each start of the schedule, for its duration.',
            'deny: {schedule: "0 16 * * 5", duration: 64h}',
          ),
        )
        .optional(),
      allow: windowSpecSchema
        .meta(
          doc(
            'A release window: with any, the rollout moves forward only inside one.',
            'allow: {schedule: "0 9 * * 1-4", duration: 8h}',
          ),
        )
        .optional(),
    })
      .superRefine((w, ctx) => {
        if ((w.deny === undefined) === (w.allow === undefined))
          ctx.addIssue({ code: 'custom', message: 'a window has exactly one of "deny" or "allow"' });
      })
      .meta(doc('One window: exactly one of `deny` or `allow`.')),
  )
  .meta(
    doc(
      'Freeze and release windows: inside a `deny` window, or outside every `allow` window when any exists, no ' +
        'canary starts, no step advances and nothing is promoted by itself; rollbacks, pauses and `kubestead ' +
        'promote` still go ahead. The state is the snapshot fact `window` and the status condition `Frozen`.',
      'windows: [{deny: {schedule: "0 16 * * 5", duration: 64h, timeZone: Europe/Berlin}}]',
    ),
  )
  .optional();

export type WindowsSpec = NonNullable<z.output<typeof windowsSchema>>;
export type WindowSpec = z.output<typeof windowSpecSchema>;
