export { AuditRecorder, gatesActuation, type AuditRecorderOptions, type RetentionOptions } from './recorder.js';
export { AuditUnavailableError, type AuditHealth, type AuditHealthReason } from './errors.js';
export { verifyChain, type Finding, type Problem, type VerifyOptions, type VerifyResult } from './verify.js';
export { ChainInputError, parseChainText } from './parse.js';
export { entryHash, entryLine, GENESIS, type AuditEntry } from './entry.js';
