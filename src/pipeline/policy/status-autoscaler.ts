import { z } from 'zod';
import { doc } from './schema-parts.js';

const count = (description: string, example: string) => z.number().int().min(0).meta(doc(description, example));

/** status.autoscaler: the user's HorizontalPodAutoscaler of the target as last read (docs/hpa.md). */
export const autoscalerStatusSchema = z
  .object({
    name: z.string().meta(doc("The user's HPA that scales the target.", 'name: web')),
    minReplicas: count("The HPA's lower bound (`spec.minReplicas`, 1 when unset).", 'minReplicas: 2'),
    maxReplicas: count("The HPA's upper bound (`spec.maxReplicas`).", 'maxReplicas: 10'),
    currentReplicas: count(
      'The replicas the HPA last saw on its target (its `status.currentReplicas`).',
      'currentReplicas: 6',
    ).optional(),
    desiredReplicas: count(
      'The replicas the HPA last asked for (its `status.desiredReplicas`): what Kubestead keeps serving.',
      'desiredReplicas: 6',
    ).optional(),
  })
  .meta(
    doc(
      "The user's HorizontalPodAutoscaler (autoscaling/v2; v1 and KEDA's read the same) whose scaleTargetRef is the " +
        'target, as last read; absent without one.',
    ),
  );

export type AutoscalerStatus = z.output<typeof autoscalerStatusSchema>;
