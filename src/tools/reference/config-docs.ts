import type { FieldDoc } from './window-docs.js';

/** `spec.configTracking` (docs/operating.md, "Config changes are canaried"). */
export const CONFIG_TRACKING_DOCS: Record<string, FieldDoc> = {
  'spec.configTracking': {
    description:
      "Config changes are canaried: the ConfigMaps the target's pod template reads (volumes, projected volumes, " +
      '`envFrom`, `env.valueFrom`) are part of its revision, and primary runs copies of them (`<name>-primary`), ' +
      'updated only when a canary is promoted.',
    example: 'configTracking: {enabled: false}',
  },
  'spec.configTracking.enabled': {
    description: 'Off: the revision is the pod template alone, and primary reads the same ConfigMaps as the target.',
    example: 'enabled: false',
  },
};

/** `spec.fastRevert` (docs/operating.md, "Fast revert to a known-good revision"). */
export const FAST_REVERT_DOCS: Record<string, FieldDoc> = {
  'spec.fastRevert': {
    description:
      'Fast revert: a target whose revision (template and tracked config together) equals one of the last ' +
      '`revisions` promoted ones is promoted at once, without steps (rule `fast-revert`); status keeps them in ' +
      '`promotedRevisions`.',
    example: 'fastRevert: {revisions: 3}',
  },
  'spec.fastRevert.revisions': {
    description: 'How many earlier promoted revisions count as known-good; 0 turns it off.',
    example: 'revisions: 3',
  },
};
