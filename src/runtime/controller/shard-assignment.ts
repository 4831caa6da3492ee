/**
 * Which live replica owns which policy when `kubestead run --shards auto` divides the work
 * (docs/sharding.md). Pure and deterministic: every replica computes the same answer from the same
 * member ids and policy UIDs, with no coordinator but the membership Leases.
 *
 * Rendezvous (highest-random-weight) hashing with a cap: each policy ranks the members by a hash of
 * (member, policy UID) and goes to the first member in its ranking that is below the cap, the
 * policies taken in the order of their own hash. The cap is ⌈LOAD_FACTOR · policies / members⌉, so
 * no member holds more than about 1.25× the average; a join or a leave moves the policies whose
 * first choice changed, plus the few that the cap had pushed off a member.
 */

/** No member holds more than this times the average number of policies (rounded up). */
export const LOAD_FACTOR = 1.25;

/** The most policies one member may own: ⌈LOAD_FACTOR · policies / members⌉ (0 without members). */
export function shardCap(policies: number, members: number): number {
  if (members <= 0) return 0;
  return Math.max(1, Math.ceil((LOAD_FACTOR * policies) / members));
}

/**
 * The most policies a join or a leave moves: ⌈(2·LOAD_FACTOR − 1) · policies / members⌉ + 1 (1.5× an
 * average share, plus one for the rounding of shares of a handful), `members` counted with the newcomer on a join and with the leaver on a leave. The policies
 * whose first choice is the newcomer (or was the leaver) move, about one share, and the cap can push
 * a few more along; the table test in test/controller/shard-assignment.test.ts holds it to this bound.
 */
export function moveBound(policies: number, members: number): number {
  if (members <= 0) return policies;
  return Math.ceil(((2 * LOAD_FACTOR - 1) * policies) / members) + 1;
}

/** A 32-bit FNV-1a hash of `text`, finished with murmur3's avalanche so that close inputs spread. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const byHashThenText = (a: { h: number; key: string }, b: { h: number; key: string }): number =>
  a.h - b.h || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The members in the order `uid` prefers them (highest weight first; ties by id). */
export function ranking(uid: string, members: readonly string[]): string[] {
  return members
    .map((member) => ({ key: member, h: hash32(`${member}\u0000${uid}`) }))
    .sort((a, b) => -byHashThenText(a, b))
    .map((entry) => entry.key);
}

/**
 * The owner of every policy UID: a Map uid → member id. Duplicate members or UIDs count once; with no
 * member the map is empty (every policy is unowned).
 */
export function assignShards(uids: readonly string[], members: readonly string[]): Map<string, string> {
  const live = [...new Set(members)].sort();
  const owners = new Map<string, string>();
  if (live.length === 0) return owners;
  const ordered = [...new Set(uids)].map((key) => ({ key, h: hash32(key) })).sort(byHashThenText);
  const cap = shardCap(ordered.length, live.length);
  const load = new Map(live.map((member) => [member, 0]));
  for (const { key } of ordered) {
    const owner = ranking(key, live).find((member) => (load.get(member) ?? 0) < cap) ?? live[0]!;
    load.set(owner, (load.get(owner) ?? 0) + 1);
    owners.set(key, owner);
  }
  return owners;
}

/** The policies whose owner differs between two assignments (present in both). */
export function movedPolicies(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  return [...after].filter(([uid, owner]) => before.has(uid) && before.get(uid) !== owner).map(([uid]) => uid);
}

/** How many policies each member owns (every member listed, with 0 when it owns none). */
export function loads(assignment: ReadonlyMap<string, string>, members: readonly string[]): Map<string, number> {
  const counts = new Map(members.map((member) => [member, 0]));
  for (const owner of assignment.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return counts;
}

/** `--shard-selector a=b,c=d`: the labels a policy must carry for this replica set to consider it. */
export function parseShardSelector(text: string): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim())) {
    const [key, value, extra] = pair.split('=');
    if (!key || value === undefined || extra !== undefined)
      throw new Error(`--shard-selector: expected LABEL=VALUE[,LABEL=VALUE…], got ${JSON.stringify(text)}`);
    selector[key.trim()] = value.trim();
  }
  return selector;
}
