import { ApiException } from '@kubernetes/client-node';
import { statusMessage } from '../../adapters/kube/errors.js';
import { condition } from './conditions.js';
import type { TickContext } from './context.js';
import { writeStatus } from './write.js';

/** The controller's RBAC refused a call: one line naming the verb and resource, as the API server said it. */
export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** A 403 from the API as a ForbiddenError, or undefined for any other error. */
export function forbiddenOf(error: unknown): ForbiddenError | undefined {
  if (!(error instanceof ApiException) || error.code !== 403) return undefined;
  const said = statusMessage(error.body) ?? 'forbidden';
  return new ForbiddenError(
    `HTTP 403: ${said}; the controller's ServiceAccount needs that rule (docs/operating.md lists the RBAC rules)`,
  );
}

/**
 * A tick refused by RBAC: the policy's status keeps what it had, plus Degraded=True reason
 * Forbidden with the refusal (what `kubestead status` and `kubectl describe` show); the error is
 * rethrown in one line, so the queue logs it and retries with backoff.
 */
export async function reportForbidden(ctx: TickContext, error: unknown): Promise<never> {
  const forbidden = forbiddenOf(error);
  if (!forbidden) throw error;
  ctx.next = structuredClone(ctx.status);
  condition(ctx, 'Degraded', true, { reason: 'Forbidden', message: forbidden.message });
  await writeStatus(ctx).catch((writeError: unknown) =>
    ctx.log.warn(
      { err: forbiddenOf(writeError)?.message ?? String(writeError) },
      'could not show the refusal in status',
    ),
  );
  throw forbidden;
}
