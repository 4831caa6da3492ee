import type { HttpClient } from '../providers/http.js';
import type { NotificationBody } from './formats.js';

/** A delivery that failed; `retryable` unless the receiver said the request itself is wrong (4xx but 408/429). */
export class NotificationError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'NotificationError';
  }
}

export interface SendOptions {
  /** The budget of one delivery attempt (the HTTP client retries once inside it). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * POSTs notifications through the providers' HTTP client: the same host allow-list and SSRF rules
 * (no link-local, no redirects), a body cap, a timeout. Messages never carry the URL (Slack's and
 * Teams' carry a token): only the destination's name, given by the caller.
 */
export class NotificationSender {
  constructor(readonly http: HttpClient) {}

  async send(
    url: string,
    message: NotificationBody,
    headers: Record<string, string>,
    opts: SendOptions,
  ): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new NotificationError('the destination URL is not a valid URL', false);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw new NotificationError(`the destination URL is not http(s) but ${parsed.protocol}`, false);
    if (parsed.username || parsed.password)
      throw new NotificationError('credentials in the destination URL are refused', false);
    let status: number;
    try {
      const res = await this.http.request(
        {
          url: parsed,
          method: 'POST',
          headers: { 'content-type': message.contentType, ...headers },
          body: message.body,
        },
        { timeoutMs: opts.timeoutMs, maxBytes: 64 * 1024, ...(opts.signal ? { signal: opts.signal } : {}) },
      );
      status = res.status;
    } catch (error) {
      const text = (error as Error).message;
      throw new NotificationError(scrubbed(text, parsed), !/^address refused/.test(text));
    }
    if (status >= 200 && status < 300) return;
    throw new NotificationError(`answered ${status}`, status >= 500 || status === 408 || status === 429);
  }
}

/**
 * The secret parts of a URL: its user and password, and the path segments and query values that are not plain
 * words (Slack's token is in its path, Teams' signature in its query).
 */
function secretParts(url: URL): string[] {
  const words = [...url.pathname.split('/'), ...url.searchParams.values()].filter(
    (p) => p.length >= 6 && !/^[a-z-]+$/.test(p),
  );
  return [url.username, url.password, ...words].filter((p) => p.length > 0);
}

/**
 * A network error's text without the destination's secrets: every URL in it cut to its origin (a redirect's
 * Location may echo the token), then any path segment or query value of the destination's URL masked.
 */
export function scrubbed(text: string, url: URL): string {
  let out = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (found) => {
    try {
      const parsed = new URL(found);
      return `${parsed.protocol}//${parsed.host}/…`;
    } catch {
      return '(an address)';
    }
  });
  for (const part of secretParts(url)) out = out.split(part).join('…');
  return out;
}
