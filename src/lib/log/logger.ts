import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Credential paths pino blanks out wherever they appear in a log object. */
export const REDACTED_PATHS = [
  '*.apiKey',
  '*.appKey',
  '*.token',
  '*.password',
  '*.secret',
  '*.authorization',
  '*.Authorization',
  'headers["DD-API-KEY"]',
  'headers["DD-APPLICATION-KEY"]',
  'headers["API-Key"]',
  'headers.authorization',
  '*.headers["DD-API-KEY"]',
  '*.headers["DD-APPLICATION-KEY"]',
  '*.headers["API-Key"]',
  '*.headers.authorization',
];

/** The one way the project makes a logger: JSON to stderr (or the given stream), secrets redacted. */
export function createLogger(options: { level?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { app: 'kubestead' },
  };
  return pino(config, (options.stream ?? process.stderr) as pino.DestinationStream);
}

/** A logger that writes nothing, for tests and the offline CLI. */
export const silentLogger: Logger = pino({ level: 'silent' });
