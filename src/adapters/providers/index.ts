export type { Measurement, MeasureContext, MeasurementHistory, MetricProvider, Sample, TickRange } from './types.js';
export { MetricError, ProviderConfigError } from './types.js';
export {
  createMetricsRuntime,
  createProvider,
  evaluationWindow,
  providerKind,
  type MetricsRuntime,
} from './provider.js';
export { measureChecks, measureContext, measureHistories } from './measure.js';
export { renderQuery, templateValues, type QueryLanguage } from './template.js';
export { HttpClient, DEFAULT_MAX_BYTES } from './http.js';
export { QueryCache } from './cache.js';
