import { configRefs, COPY_OF_LABEL, type ConfigData } from '../../pipeline/actuate/config.js';
import { tracksConfig } from '../../pipeline/policy/config-tracking.js';
import { policyOwner } from '../../adapters/kube/names.js';
import { canonicalJson } from '../../pipeline/compile/compile.js';
import { primaryName } from '../../pipeline/policy/vocabulary.js';
import { isShadow, policyOf, targetOf, type Stop, type TickContext } from './context.js';
import { configHash, revisionOf } from './revision.js';

/**
 * The config stage (docs/operating.md, "Config changes are canaried"): reads the ConfigMaps the
 * target's template references, so that their data is part of the revision and primary can be given
 * copies of them. A referenced ConfigMap that does not exist is not tracked (its pods cannot start
 * either, unless the reference is optional). One read per referenced ConfigMap per tick.
 */
export async function readConfig(ctx: TickContext): Promise<Stop | undefined> {
  ctx.config = undefined;
  if (isShadow(ctx) || !tracksConfig(policyOf(ctx).spec)) return undefined;
  const refs = configRefs(targetOf(ctx).spec?.template, false);
  if (refs.length === 0) return undefined;
  const data: ConfigData[] = [];
  for (const ref of refs) {
    const object = await ctx.shared.kube.readConfigMap(ctx.key.namespace, ref.name);
    if (object) data.push({ ...ref, data: { ...(object.data ?? {}) } });
  }
  const owner = policyOwner(ctx.key.name, ctx.raw.metadata?.uid ?? '');
  ctx.config = { refs: data.map(({ kind, name }) => ({ kind, name })), data, hash: configHash(data), owner };
  return undefined;
}

/** The target's revision: its template and, when tracked, the data of the config it reads. */
export const targetRevision = (ctx: TickContext): string =>
  revisionOf(targetOf(ctx).spec?.template, ctx.config?.data ?? []);

/**
 * The hand-back's last step: primary's copies of the config, the ConfigMaps labelled as copies and
 * owned by this policy, are deleted (the user's own are never touched). Returns their names.
 */
export async function deleteCopies(ctx: TickContext): Promise<string[]> {
  const uid = ctx.raw.metadata?.uid;
  const copies = await ctx.shared.kube.listConfigMaps(ctx.key.namespace, COPY_OF_LABEL);
  const ours = copies.filter((c) => uid && c.metadata?.ownerReferences?.some((o) => o.uid === uid));
  for (const copy of ours)
    await ctx.shared.kube.deleteConfigMap(ctx.key.namespace, copy.metadata?.name ?? '', copy.metadata?.uid);
  return ours.map((c) => c.metadata?.name ?? '');
}

/**
 * What a new revision changed in the tracked config, against primary's copies (the config last
 * promoted): `ConfigMap settings`, comma-separated; empty when nothing did. Names only, never data.
 */
export async function changedConfig(ctx: TickContext): Promise<string> {
  const changed: string[] = [];
  for (const object of ctx.config?.data ?? []) {
    const copy = await ctx.shared.kube.readConfigMap(ctx.key.namespace, primaryName(object.name));
    if (!copy || canonicalJson(copy.data ?? {}) !== canonicalJson(object.data))
      changed.push(`${object.kind} ${object.name}`);
  }
  return changed.join(', ');
}
