import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import type { KubeClients } from '../../../../adapters/kube/clients.js';
import { labelValue, objectName, ownerOf, POLICY_LABEL, ROLE_LABEL, UID_LABEL } from '../segments.js';
import type { RollbackReport } from './build.js';
import { reportMarkdown } from './render.js';
import { chartSvg } from './svg.js';
import { MANAGED_BY } from '../../../../adapters/kube/names.js';
import { isConflict } from '../../../../adapters/kube/errors.js';

const SEQ_LABEL = 'kubestead.io/audit-seq';

/** Rollback reports as ConfigMaps next to the chain (`<policy>-report-<uid8>-<seq>`): JSON, Markdown and SVG. */
export class ReportStore {
  private readonly core: CoreV1Api;

  constructor(
    clients: KubeClients,
    private readonly keepAfterDeletion: boolean,
  ) {
    this.core = clients.core;
  }

  /** Writes the report (once: a report of the same rollback already there is kept); returns its name. */
  async write(report: RollbackReport): Promise<string> {
    const { policy } = report;
    const name = objectName(policy, 'report', String(report.rollback.seq));
    const body: V1ConfigMap = {
      metadata: {
        name,
        namespace: policy.namespace,
        labels: {
          ...MANAGED_BY,
          [ROLE_LABEL]: 'report',
          [UID_LABEL]: policy.uid,
          [POLICY_LABEL]: labelValue(policy.name),
          [SEQ_LABEL]: String(report.rollback.seq),
        },
        ownerReferences: this.keepAfterDeletion ? undefined : [ownerOf(policy)],
      },
      data: reportData(report),
    };
    try {
      await this.core.createNamespacedConfigMap({ namespace: policy.namespace, body });
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    return name;
  }

  /** The newest report of a policy name (of `uid` when given), or null. */
  async latest(namespace: string, name: string, uid: string | null): Promise<RollbackReport | null> {
    return (await this.all(namespace, name, uid))[0]?.report ?? null;
  }

  /** Every report of a policy name (of `uid` when given), newest first, with its ConfigMap's name. */
  async all(
    namespace: string,
    name: string,
    uid: string | null,
  ): Promise<Array<{ name: string; report: RollbackReport }>> {
    const selector = `${ROLE_LABEL}=report,${POLICY_LABEL}=${labelValue(name)}${uid ? `,${UID_LABEL}=${uid}` : ''}`;
    const list = await this.core.listNamespacedConfigMap({ namespace, labelSelector: selector });
    return list.items
      .sort((a, b) => creation(b) - creation(a) || seqOf(b) - seqOf(a))
      .flatMap((map) => {
        const json = map.data?.['report.json'];
        return json ? [{ name: map.metadata?.name ?? '', report: JSON.parse(json) as RollbackReport }] : [];
      });
  }

  /** Writes a report again (its history added later); the ConfigMap keeps its name. */
  async update(report: RollbackReport): Promise<void> {
    const name = objectName(report.policy, 'report', String(report.rollback.seq));
    const current = await this.core.readNamespacedConfigMap({ name, namespace: report.policy.namespace });
    await this.core.replaceNamespacedConfigMap({
      name,
      namespace: report.policy.namespace,
      body: { ...current, data: { ...current.data, ...reportData(report) } },
    });
  }
}

function reportData(report: RollbackReport): Record<string, string> {
  return { 'report.json': JSON.stringify(report), 'report.md': reportMarkdown(report), 'chart.svg': chartSvg(report) };
}

function seqOf(map: V1ConfigMap): number {
  return Number(map.metadata?.labels?.[SEQ_LABEL] ?? 0);
}

function creation(map: V1ConfigMap): number {
  return map.metadata?.creationTimestamp?.getTime() ?? 0;
}
