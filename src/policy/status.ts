import { z } from 'zod';
import { ACTIONS, PHASES } from './vocabulary.js';

/** A Kubernetes-convention condition (type, status, reason, message, lastTransitionTime). */
export const conditionStatusSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});

/** RolloutPolicy status (DESIGN.md §3): all a restarted controller needs to resume. */
export const policyStatusSchema = z.object({
  phase: z.enum(PHASES).optional(),
  currentStep: z.number().int().min(0).optional(),
  canaryWeight: z.number().min(0).max(100).optional(),
  effectiveWeight: z.number().min(0).max(100).optional(),
  stepStartedAt: z.string().optional(),
  stableRevision: z.string().optional(),
  canaryRevision: z.string().optional(),
  lastDecision: z.object({
    action: z.enum(ACTIONS),
    reasons: z.array(z.object({ rule: z.string(), check: z.string().optional(), message: z.string() })),
    time: z.string(),
  }).optional(),
  audit: z.object({ head: z.string().optional(), seq: z.number().int().optional() }).optional(),
  conditions: z.array(conditionStatusSchema).optional(),
  observedGeneration: z.number().int().optional(),
});

export type PolicyStatus = z.output<typeof policyStatusSchema>;
