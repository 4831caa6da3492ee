import type { V1Deployment } from '@kubernetes/client-node';
import { configRefs, COPY_OF_LABEL, type ConfigData, type ConfigKind } from '../../pipeline/actuate/config.js';
import { tracksConfig, tracksSecrets } from '../../pipeline/policy/config-tracking.js';
import { policyOwner } from '../../adapters/kube/names.js';
import type { ConfigObject } from '../../adapters/kube/config-objects.js';
import { canonicalJson } from '../../pipeline/compile/compile.js';
import { PRIMARY_SUFFIX, primaryName } from '../../pipeline/policy/vocabulary.js';
import { isShadow, policyOf, targetOf, type Stop, type TickContext } from './context.js';
import { configHash, revisionOf } from './revision.js';

/**
 * The config stage (docs/operating.md, "Config changes are canaried"): reads the ConfigMaps (and with
 * `secrets: true` the Secrets) the target's template references, so that their data is part of the
 * revision and primary can be given copies of them. A referenced object that does not exist is not
 * tracked (its pods cannot start either, unless the reference is optional). One read per referenced
 * object per tick. A Secret's values stay in ctx.config: they go into the hash and the copy only.
 */
export async function readConfig(ctx: TickContext): Promise<Stop | undefined> {
  ctx.config = undefined;
  const { spec } = policyOf(ctx);
  if (isShadow(ctx) || !tracksConfig(spec)) return undefined;
  const refs = configRefs(targetOf(ctx).spec?.template, tracksSecrets(spec));
  if (refs.length === 0) return undefined;
  const data: ConfigData[] = [];
  for (const ref of refs) {
    const object = await ctx.shared.kube.configObjects(ref.kind).read(ctx.key.namespace, ref.name);
    if (!object) continue;
    const type = 'type' in object && object.type !== undefined ? { type: object.type } : {};
    data.push({ ...ref, data: { ...(object.data ?? {}) }, ...type });
  }
  const owner = policyOwner(ctx.key.name, ctx.raw.metadata?.uid ?? '');
  ctx.config = { refs: data.map(({ kind, name }) => ({ kind, name })), data, hash: configHash(data), owner };
  return undefined;
}

/** The target's revision: its template and, when tracked, the data of the config it reads. */
export const targetRevision = (ctx: TickContext): string =>
  revisionOf(targetOf(ctx).spec?.template, ctx.config?.data ?? []);

/**
 * The hand-back's last step: primary's copies of the config, labelled as copies and owned by this
 * policy, are deleted (the user's own are never touched). ConfigMap copies are listed by label;
 * Secret copies are the `<name>-primary` Secrets primary's template names, read by name (the
 * controller never lists Secrets; a policy being deleted may not validate, so its spec is not asked).
 * Returns their names.
 */
export async function deleteCopies(ctx: TickContext, primary: V1Deployment): Promise<string[]> {
  const maps = await ctx.shared.kube.configObjects('ConfigMap').list(ctx.key.namespace, COPY_OF_LABEL);
  const deleted = await deleteOurs(ctx, 'ConfigMap', maps);
  const secrets = ctx.shared.kube.configObjects('Secret');
  const named = configRefs(primary.spec?.template, true).filter(
    (ref) => ref.kind === 'Secret' && ref.name.endsWith(PRIMARY_SUFFIX),
  );
  const read = await Promise.all(named.map((ref) => secrets.read(ctx.key.namespace, ref.name)));
  return [...deleted, ...(await deleteOurs(ctx, 'Secret', read))];
}

/** Deletes the objects given that are copies owned by this policy (by uid); returns their names. */
async function deleteOurs(ctx: TickContext, kind: ConfigKind, found: (ConfigObject | undefined)[]): Promise<string[]> {
  const uid = ctx.raw.metadata?.uid;
  const ours = found.filter(
    (c): c is ConfigObject =>
      !!uid &&
      c?.metadata?.labels?.[COPY_OF_LABEL] !== undefined &&
      c.metadata.ownerReferences?.some((o) => o.uid === uid) === true,
  );
  const objects = ctx.shared.kube.configObjects(kind);
  for (const copy of ours) await objects.delete(ctx.key.namespace, copy.metadata?.name ?? '', copy.metadata?.uid);
  return ours.map((c) => c.metadata?.name ?? '');
}

/**
 * What a new revision changed in the tracked config, against primary's copies (the config last
 * promoted): `ConfigMap settings`, comma-separated; empty when nothing did. Names only, never data.
 */
export async function changedConfig(ctx: TickContext): Promise<string> {
  const changed: string[] = [];
  for (const object of ctx.config?.data ?? []) {
    const copy = await ctx.shared.kube.configObjects(object.kind).read(ctx.key.namespace, primaryName(object.name));
    if (!copy || canonicalJson(copy.data ?? {}) !== canonicalJson(object.data))
      changed.push(`${object.kind} ${object.name}`);
  }
  return changed.join(', ');
}
