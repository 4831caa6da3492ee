import type { KubeClients } from '../../adapters/kube/clients.js';
import { isNotFound } from '../../adapters/kube/errors.js';
import { policyPath, POLICY_RESOURCE } from '../../adapters/kube/names.js';
import { parseChainText } from '../../pipeline/record/audit/parse.js';
import { ReportStore } from '../../pipeline/record/audit/report/store.js';
import { segmentLines, SegmentStore } from '../../pipeline/record/audit/segments.js';
import { verifyChain, verifySummary } from '../../pipeline/record/audit/verify.js';
import type { AuditEntry } from '../../pipeline/record/audit/entry.js';
import {
  detailOf,
  summarize,
  type AuditView,
  type PolicyDetail,
  type PolicyObjectView,
  type PolicySummary,
  type ReportView,
} from './document.js';

/** No such policy: the message names it. */
export class PolicyNotFoundError extends Error {}

/** One policy object, or PolicyNotFoundError. */
export async function readPolicyObject(
  clients: KubeClients,
  namespace: string,
  name: string,
): Promise<PolicyObjectView> {
  try {
    return (await clients.custom.getNamespacedCustomObject(policyPath(namespace, name))) as PolicyObjectView;
  } catch (error) {
    if (isNotFound(error))
      throw new PolicyNotFoundError(`rolloutpolicy "${name}" not found in namespace "${namespace}"`);
    throw error;
  }
}

/** The policies of some namespaces (null: all), as summaries, sorted by namespace and name. */
export async function readSummaries(clients: KubeClients, namespaces: string[] | null): Promise<PolicySummary[]> {
  const { group, version, plural } = POLICY_RESOURCE;
  const lists = namespaces
    ? await Promise.all(
        namespaces.map(
          (namespace) =>
            clients.custom.listNamespacedCustomObject({ group, version, plural, namespace }) as Promise<{
              items: PolicyObjectView[];
            }>,
        ),
      )
    : [(await clients.custom.listClusterCustomObject({ group, version, plural })) as { items: PolicyObjectView[] }];
  return lists
    .flatMap((list) => list.items.map(summarize))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** The chain of a policy, verified against its status.audit.head (null when it has none yet). */
async function readChain(
  clients: KubeClients,
  policy: PolicyObjectView,
): Promise<{ entries: AuditEntry[]; audit: AuditView } | null> {
  const { namespace = 'default', name = '', uid } = policy.metadata ?? {};
  if (!uid) return null;
  const lines = segmentLines(await new SegmentStore(clients, { keepAfterDeletion: true }).list(namespace, uid));
  if (lines.length === 0) return null;
  const parsed = parseChainText(`${lines.join('\n')}\n`, `${namespace}/${name}`);
  const { head, seq } = policy.status?.audit ?? {};
  const anchor = head ? { head, ...(seq === undefined ? {} : { headSeq: seq }) } : {};
  const result = verifyChain(parsed, { policy: `${namespace}/${name}`, ...anchor });
  return {
    entries: parsed.flatMap((line) => (line.entry ? [line.entry] : [])),
    audit: { entries: result.entries, head: head ?? null, verified: result.ok, summary: verifySummary(result).trim() },
  };
}

async function readReports(clients: KubeClients, policy: PolicyObjectView): Promise<ReportView[]> {
  const { namespace = 'default', name = '', uid = null } = policy.metadata ?? {};
  const reports = await new ReportStore(clients, true).all(namespace, name, uid);
  return reports.map(({ name: map, report }) => ({
    name: map,
    seq: report.rollback.seq,
    rolledBackAt: report.rolledBackAt,
    reasons: report.rollback.reasons,
  }));
}

/** The status document of one policy: the object, its verified audit chain and its rollback reports. */
export async function readDetail(clients: KubeClients, namespace: string, name: string): Promise<PolicyDetail> {
  const policy = await readPolicyObject(clients, namespace, name);
  const [chain, reports] = await Promise.all([
    readChain(clients, policy).catch((error: unknown) => unreadable(error)),
    readReports(clients, policy).catch(() => []),
  ]);
  return detailOf(policy, chain, reports);
}

/** A chain that cannot be read (no access to ConfigMaps, say): said in the document, not an error of it. */
function unreadable(error: unknown): { entries: AuditEntry[]; audit: AuditView } {
  const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return {
    entries: [],
    audit: { entries: 0, head: null, verified: false, summary: `cannot read the audit chain: ${why}` },
  };
}
