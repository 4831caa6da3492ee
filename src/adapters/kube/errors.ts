import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed API call, or undefined for other errors. */
export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The API server's own words from a Status body (`… cannot patch resource "deployments/scale" …`). */
export function statusMessage(body: unknown): string | undefined {
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | null;
    return typeof parsed?.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

/** Socket-level failures: the API server gave no answer at all. */
const NO_ANSWER = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

/** The error's socket code (`ECONNREFUSED`), looked for on it and on its causes. */
function socketCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NO_ANSWER.has(code)) return code;
  }
  return undefined;
}

/**
 * The API server could not serve the call (matrix row 9): it answered 5xx or 429, or gave no answer
 * (connection refused, reset, timed out). Retrying later can succeed; nothing is wrong with the policy.
 */
export function isApiUnavailable(error: unknown): boolean {
  const code = statusCode(error);
  if (code !== undefined) return code >= 500 || code === 429;
  return socketCode(error) !== undefined;
}

/**
 * A failed call in one line for a log (the client's own message dumps headers and body over
 * several lines): `HTTP 503: The server is currently unable …`, or the socket error's message.
 */
export function errorLine(error: unknown): string {
  if (error instanceof ApiException) {
    const said = statusMessage(error.body);
    return said === undefined ? `HTTP ${error.code}` : `HTTP ${error.code}: ${said.split('\n')[0]}`;
  }
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

export const isConflict = (error: unknown): boolean => statusCode(error) === 409;
export const isNotFound = (error: unknown): boolean => statusCode(error) === 404;

/** A failed call in one line (no body dump, no credentials): `GET deployment shop/x: 503`. */
export function describeApiError(what: string, error: unknown): string {
  const code = statusCode(error);
  return `${what}: ${code !== undefined ? `HTTP ${code}` : error instanceof Error ? error.message : String(error)}`;
}

/** The object, or undefined when the API server answers 404. */
export async function orMissing<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Deletes, treating "already gone" as done. */
export async function deleteIfPresent(call: Promise<unknown>): Promise<void> {
  await orMissing(call);
}
