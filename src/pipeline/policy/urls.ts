import type { PolicyIssue } from './issues.js';
import { isObj, type Obj } from './objects.js';

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi;

/** Removes `user:password@` from every URL in a text: credentials in an address never reach a message. */
export function scrubUserinfo(text: string): string {
  return text.replace(USERINFO, '$1');
}

/** True when a URL text carries a user name or password. */
export function hasUserinfo(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
}

const REFUSED =
  'a URL may not carry credentials (user:password@): they would reach logs, snapshots and the audit log; use a ' +
  'Secret ref';

/** The fields of a provider kind that hold an address. */
const ADDRESS_FIELDS = ['address', 'url', 'endpoint'];

/** Provider addresses, webhook URLs and the audit webhook URL with credentials in them are refused. */
export function credentialIssues(spec: Obj): PolicyIssue[] {
  const urls: { path: (string | number)[]; url: unknown }[] = [];
  for (const [name, provider] of Object.entries(isObj(spec.providers) ? spec.providers : {})) {
    for (const [kind, settings] of Object.entries(isObj(provider) ? provider : {})) {
      for (const field of ADDRESS_FIELDS)
        if (isObj(settings)) urls.push({ path: ['spec', 'providers', name, kind, field], url: settings[field] });
    }
  }
  if (Array.isArray(spec.webhooks))
    spec.webhooks.forEach((hook, i) =>
      urls.push({ path: ['spec', 'webhooks', i, 'url'], url: isObj(hook) ? hook.url : undefined }),
    );
  const webhook = isObj(spec.audit) && isObj(spec.audit.webhook) ? spec.audit.webhook : {};
  urls.push({ path: ['spec', 'audit', 'webhook', 'url'], url: webhook.url });
  return urls
    .filter(({ url }) => typeof url === 'string' && hasUserinfo(url))
    .map(({ path }) => ({ path, message: REFUSED }));
}
