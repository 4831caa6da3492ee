import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseChainText, verifyChain, type VerifyResult } from '../../pipeline/record/audit/index.js';
import { policyUid, readChainLines } from '../../pipeline/record/audit/export.js';
import { renderReport } from '../../pipeline/record/audit/report/render.js';
import { ReportStore } from '../../pipeline/record/audit/report/store.js';
import { DemoPolicyApi, SHOP } from './shop-cluster.js';
import type { DemoFiles } from './stack.js';
import { kubeClients } from '../../adapters/kube/clients.js';
import { verifySummary } from '../../pipeline/record/audit/verify.js';

/** What the demo verified after the releases: the audit file, the chain in the cluster, the report. */
export interface Evidence {
  file: VerifyResult;
  cluster: VerifyResult;
  /** The rollback report ConfigMap's name (status.report), and the Markdown copy in the demo's folder. */
  report?: { configMap: string; file: string };
}

const POLICY = `${SHOP.namespace}/${SHOP.name}`;

async function writeReport(kubeConfig: KubeConfig, files: DemoFiles): Promise<string | undefined> {
  const uid = await policyUid(kubeClients(kubeConfig), SHOP.namespace, SHOP.name);
  const report = await new ReportStore(kubeClients(kubeConfig), true).latest(SHOP.namespace, SHOP.name, uid);
  if (!report) return undefined;
  const file = join(files.dir, 'rollback-report.md');
  await writeFile(file, renderReport(report, 'md'));
  return file;
}

/**
 * Verifies the audit chain twice, as `kubestead audit verify` does: the JSON Lines file the
 * recorder appended to, and the chain exported from the cluster, each against status.audit.head.
 * `say` gets the commands and their output.
 */
export async function gatherEvidence(
  kubeConfig: KubeConfig,
  files: DemoFiles,
  say: (line: string) => void,
): Promise<Evidence> {
  const status = (await new DemoPolicyApi(kubeConfig).read()).status;
  const head = status?.audit?.head;
  const headFlag = head ? ` --head ${head}` : '';
  const options = { head, policy: POLICY };
  say(`demo: $ kubestead audit verify ${files.auditLog}${headFlag}`);
  const file = verifyChain(parseChainText(await readFile(files.auditLog, 'utf8'), files.auditLog), options);
  say(verifySummary(file).trimEnd());
  say(`demo: $ kubestead audit export ${SHOP.name} -n ${SHOP.namespace} | kubestead audit verify -${headFlag}`);
  const cluster = verifyChain(
    parseChainText((await readChainLines(kubeClients(kubeConfig), SHOP.namespace, SHOP.name)).join('\n'), '(cluster)'),
    options,
  );
  say(verifySummary(cluster).trimEnd());
  const reportFile = status?.report ? await writeReport(kubeConfig, files) : undefined;
  return {
    file,
    cluster,
    report: status?.report && reportFile ? { configMap: status.report, file: reportFile } : undefined,
  };
}
