import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Which provider addresses the operator may connect to (no SSRF: a policy author must not point
 * the operator at internal endpoints).
 *
 * `allowedHosts` entries: `prometheus.example.com` (any port), `prometheus.example.com:9090`,
 * `*.monitoring.svc` (any subdomain), `*.monitoring.svc:9090`, IP literals (`10.0.0.7`,
 * `[fd00::7]:9090`) and CIDR ranges (`10.0.0.0/8`).
 * - With a list, a URL's host (and port) must match an entry, checked before connecting; then every
 *   address the name resolves to is checked when the connection is made (the checked address is the
 *   one used, so DNS rebinding cannot slip through): loopback, link-local (169.254.0.0/16, fe80::/10,
 *   cloud metadata), unspecified and multicast addresses are refused unless an IP or CIDR entry
 *   names them explicitly. Private ranges (cluster IPs) are allowed.
 * - Without a list every name is allowed, but link-local addresses (the cloud metadata endpoint)
 *   are still refused.
 * Redirects are never followed (see http.ts), so a redirect cannot lead elsewhere.
 */
export class HostDeniedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostDeniedError';
  }
}

interface NamePattern {
  host: string;
  wildcard: boolean;
  port: string | null;
}

const ALWAYS_DENIED = blockList([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
const SPECIAL = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);

function blockList(subnets: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of subnets) list.addSubnet(net, prefix, type);
  return list;
}

/** `::ffff:127.0.0.1` and `::ffff:7f00:1` → `127.0.0.1`; other addresses unchanged (brackets removed). */
export function normalizeAddress(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (dotted?.[1]) return dotted[1];
  const hexed = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare);
  if (!hexed) return bare;
  const [hi, lo] = [parseInt(hexed[1] ?? '0', 16), parseInt(hexed[2] ?? '0', 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

export class HostPolicy {
  private readonly names: NamePattern[] = [];
  /** Addresses and ranges listed: exempt from the special-address refusal. */
  private readonly explicit = new BlockList();
  /** CIDR entries: an IP-literal URL host in them is allowed on any port. */
  private readonly ranges = new BlockList();
  private readonly listed: boolean;

  constructor(allowedHosts?: readonly string[]) {
    this.listed = allowedHosts !== undefined;
    for (const entry of allowedHosts ?? []) this.add(entry.trim().toLowerCase());
  }

  private add(entry: string): void {
    const cidr = /^([0-9a-f:.]+)\/(\d{1,3})$/.exec(entry);
    if (cidr?.[1] && isIP(cidr[1])) {
      this.explicit.addSubnet(cidr[1], Number(cidr[2]), family(cidr[1]));
      this.ranges.addSubnet(cidr[1], Number(cidr[2]), family(cidr[1]));
      return;
    }
    const match = isIP(entry) === 6 ? [entry, entry] : /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!match?.[1]) throw new Error(`allowedHosts: cannot read ${JSON.stringify(entry)}`);
    const host = normalizeAddress(match[1]);
    if (isIP(host)) this.explicit.addAddress(host, family(host));
    const wildcard = host.startsWith('*.');
    this.names.push({ host: wildcard ? host.slice(2) : host, wildcard, port: match[2] ?? null });
  }

  /** Before connecting: the URL's host and port are allowed, and an IP literal is not a refused address. */
  checkUrl(url: URL): void {
    const host = normalizeAddress(url.hostname).replace(/\.$/, '');
    if (this.listed && !this.nameAllowed(host, url)) {
      throw new HostDeniedError(`${url.host} is not in the operator's allowedHosts`);
    }
    if (isIP(host)) this.checkAddress(url.hostname, host);
  }

  private nameAllowed(host: string, url: URL): boolean {
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const byName = this.names.some(
      (p) => (p.port === null || p.port === port) && (p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host),
    );
    return byName || (isIP(host) !== 0 && this.ranges.check(host, family(host)));
  }

  /** One resolved (or literal) address: refused when special and not explicitly allowed. */
  checkAddress(host: string, address: string): void {
    const ip = normalizeAddress(address);
    const type = family(ip);
    if (this.explicit.check(ip, type)) return;
    const denied = this.listed ? SPECIAL : ALWAYS_DENIED;
    if (denied.check(ip, type)) {
      const why = ALWAYS_DENIED.check(ip, type) ? 'link-local (cloud metadata)' : 'loopback, unspecified or multicast';
      throw new HostDeniedError(`${host} resolves to ${ip}, a ${why} address not explicitly allowed`);
    }
  }

  /** A `lookup` for net/tls connect: resolves, then refuses the connection if any address is refused. */
  readonly lookup: LookupFunction = (hostname, options, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, []);
      try {
        for (const { address } of addresses) this.checkAddress(hostname, address);
      } catch (denied) {
        return callback(denied as Error, []);
      }
      const first = addresses[0];
      if (options.all || !first) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;
