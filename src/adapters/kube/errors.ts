import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed API call, or undefined for other errors. */
export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
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
