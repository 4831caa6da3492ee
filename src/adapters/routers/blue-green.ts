import type { V1Service } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/clients.js';
import { orMissing } from '../kube/errors.js';
import { readModifyWrite, sameJson } from '../kube/objects.js';
import type { RouterContext, RouterProblem, RouterWeight, Traffic, TrafficRouter } from './router.js';
import { RouterStateError } from './weighted-router.js';
import {
  canaryTemplateHash,
  deletePreviewService,
  ensurePreviewService,
  refreshPreviewService,
  HASH_LABEL,
  isProblem,
  PRIMARY_ROLE,
  resolveUserService,
  ROLE_LABEL,
  userSelector,
} from './services.js';
import { replicaShare } from './replicas.js';

/** The blue-green term of a selector as people read it: `kubestead.io/role=primary`, `pod-template-hash=5d4f…`. */
function termText(selector: Record<string, string> | undefined): string {
  if (selector?.[HASH_LABEL] !== undefined) return `${HASH_LABEL}=${selector[HASH_LABEL]}`;
  if (selector?.[ROLE_LABEL] !== undefined) return `${ROLE_LABEL}=${selector[ROLE_LABEL]}`;
  return 'no term of Kubestead';
}

/**
 * Blue-green with replica routing: the user's Service reaches one version at a time through one term Kubestead owns
 * in its selector: `kubestead.io/role: primary` (the old version: primary's pods) from the preview on, and
 * `pod-template-hash: <the canary ReplicaSet's>` once switched (the new version's pods only). Each switch is one write
 * of that one field; the user's own selector terms, ports and everything else stay as written. The term stays
 * `kubestead.io/role: primary` between rollouts (primary is then the only version running) and is removed when the
 * policy is deleted (release). Weighted like a route: written only for a ready new version, read back, and a hand
 * edit of it is drift.
 */
export class ServiceSwitchRouter implements TrafficRouter {
  readonly kind = 'replicas' as const;
  readonly weighted = true;
  private service: V1Service | undefined;
  private readonly writes: string[] = [];

  constructor(private readonly ctx: RouterContext) {}

  private get clients(): KubeClients {
    return this.ctx.clients;
  }

  async prepare(): Promise<RouterProblem | null> {
    const found = await this.resolve();
    if (isProblem(found)) return found;
    if (!this.ctx.target.spec.blueGreen?.previewService) return null;
    const hash = await canaryTemplateHash(this.clients, this.ctx.target);
    return typeof hash === 'string' ? refreshPreviewService(this.clients, this.ctx.target, found, hash) : null;
  }

  /** Primary's full count: both versions run at it until the old one goes (the actuator asks the same). */
  canaryReplicas(_weight: number, stableReplicas: number): number {
    return stableReplicas;
  }

  setWeight(weight: number): Promise<RouterWeight> {
    return this.setTraffic({ weight });
  }

  async setTraffic(traffic: Traffic): Promise<RouterWeight> {
    const why = this.inexpressible(traffic.weight);
    if (why !== null || traffic.match !== undefined || traffic.mirror !== undefined)
      throw new Error(why ?? 'replica routing cannot route by header nor mirror traffic');
    const service = await this.resolved();
    const hash = await this.canaryHash();
    const problem = traffic.stage ? await ensurePreviewService(this.clients, this.ctx.target, service, hash) : null;
    if (problem) throw new RouterStateError(problem);
    const term: Record<string, string> =
      traffic.weight === 100 ? { [HASH_LABEL]: hash } : { [ROLE_LABEL]: PRIMARY_ROLE };
    return this.weightOf(await this.select(service, term));
  }

  async getWeight(): Promise<RouterWeight> {
    return this.weightOf(await this.read(await this.resolved()));
  }

  inexpressible(weight: number): string | null {
    return weight === 0 || weight === 100
      ? null
      : `blue-green with replica routing switches the user's Service whole: weight 0 or 100, not ${weight}`;
  }

  /** Between rollouts the user's Service keeps reaching primary only; the preview Service goes. */
  async finalize(): Promise<void> {
    await this.select(await this.resolved(), { [ROLE_LABEL]: PRIMARY_ROLE });
    await deletePreviewService(this.clients, this.ctx.target);
  }

  /** The policy is going: the user's Service gets its own selector back, and the preview Service goes. */
  async release(): Promise<void> {
    await this.select(await this.resolved(), {});
    await deletePreviewService(this.clients, this.ctx.target);
  }

  userWrites(): string[] {
    return this.writes.splice(0);
  }

  /** The selector with `term` as Kubestead's one term, in one write when it differs; the Service as it then stands. */
  private async select(service: V1Service, term: Record<string, string>): Promise<V1Service> {
    const { namespace } = this.ctx.target;
    const name = service.metadata?.name ?? '';
    let before: Record<string, string> | undefined;
    const written = await readModifyWrite(
      () => this.read(service),
      (current) => {
        const selector = { ...userSelector(current.spec?.selector), ...term };
        if (sameJson(current.spec?.selector, selector)) return undefined;
        before = current.spec?.selector;
        return { ...current, spec: { ...current.spec, selector } };
      },
      (body) => this.clients.core.replaceNamespacedService({ name, namespace, body }),
    );
    if (before !== undefined)
      this.writes.push(
        `Service ${namespace}/${name} spec.selector: ${termText(before)} → ${termText(written.spec?.selector)}`,
      );
    this.service = written;
    return written;
  }

  private async weightOf(service: V1Service): Promise<RouterWeight> {
    const where = `Service ${this.ctx.target.namespace}/${service.metadata?.name ?? ''} selector`;
    const selector = service.spec?.selector;
    if (selector?.[HASH_LABEL] !== undefined)
      return { weight: 100, detail: `${where} ${termText(selector)}: the new version only` };
    if (selector?.[ROLE_LABEL] === PRIMARY_ROLE)
      return { weight: 0, detail: `${where} ${termText(selector)}: primary only` };
    const [canary, primary] = await this.counts();
    return {
      weight: replicaShare(canary, primary),
      detail: `${where} without Kubestead's term: both versions (${canary} canary, ${primary} primary pods)`,
    };
  }

  /** The replica counts of the canary (the target) and primary. */
  private async counts(): Promise<[number, number]> {
    const { namespace, canary, primary } = this.ctx.target;
    const read = (name: string) => this.clients.apps.readNamespacedDeployment({ namespace, name });
    const [c, p] = await Promise.all([read(canary), read(primary)]);
    return [c.spec?.replicas ?? 0, p.spec?.replicas ?? 0];
  }

  private async read(service: V1Service): Promise<V1Service> {
    const { namespace } = this.ctx.target;
    const name = service.metadata?.name ?? '';
    return (await orMissing(this.clients.core.readNamespacedService({ name, namespace }))) ?? service;
  }

  private async canaryHash(): Promise<string> {
    const hash = await canaryTemplateHash(this.clients, this.ctx.target);
    if (typeof hash !== 'string') throw new RouterStateError(hash);
    return hash;
  }

  private async resolve(): Promise<V1Service | RouterProblem> {
    const named = this.ctx.target.spec.trafficRouting.replicas?.service?.name;
    const found = await resolveUserService(this.clients, this.ctx.target, named);
    if (!isProblem(found)) this.service = found;
    return found;
  }

  private async resolved(): Promise<V1Service> {
    if (this.service) return this.service;
    const found = await this.resolve();
    if (isProblem(found)) throw new RouterStateError(found);
    return found;
  }
}
