import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Clock } from '../../lib/clock/clock.js';
import type { RolloutPolicy } from '../../pipeline/policy/schema.js';
import type { ShopTraffic } from './exporter.js';
import { startBuiltInPrometheus } from './metrics-source.js';

/** The metrics source the demo's policy queries: the real Prometheus, or the built-in stand-in. */
export interface MetricsSource {
  kind: 'prometheus' | 'built-in';
  url: string;
  /** One line for the user: which source, and why. */
  description: string;
  close(): Promise<void>;
}

/** The first executable `prometheus` on PATH, or undefined. */
export function prometheusOnPath(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'prometheus');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Starts `binary` scraping the exporters every second, in a temporary data folder; waits until it answers. */
export async function startRealPrometheus(
  binary: string,
  exporterUrls: readonly string[],
  clock: Clock,
): Promise<MetricsSource> {
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-demo-prom-'));
  const config = join(dir, 'prometheus.yml');
  const targets = exporterUrls.map((url) => `'${new URL(url).host}'`).join(', ');
  await writeFile(
    config,
    `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: shop\n    ` +
      `static_configs: [{targets: [${targets}]}]\n`,
  );
  const port = await freePort();
  const child = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let waited = 0; ; waited += 250) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`${binary} exited with code ${child.exitCode}`);
    }
    if (
      await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (waited > 30_000) {
      await close();
      throw new Error(`${binary} was not ready after 30 s`);
    }
    await clock.sleep(250);
  }
  return {
    kind: 'prometheus',
    url,
    description: `metrics: the real Prometheus (${binary}) at ${url}, scraping the shop every second`,
    close,
  };
}

/** The real Prometheus when one is on PATH, otherwise the built-in source; says which. */
export async function startMetricsSource(options: {
  policy: RolloutPolicy;
  traffic: ShopTraffic;
  exporterUrl: string;
  clock: Clock;
  prometheus?: string | undefined;
}): Promise<MetricsSource> {
  if (options.prometheus) return startRealPrometheus(options.prometheus, [options.exporterUrl], options.clock);
  const server = await startBuiltInPrometheus(options.policy, options.traffic, options.clock);
  return {
    kind: 'built-in',
    url: server.url,
    description:
      `metrics: no prometheus on PATH, so the built-in source at ${server.url} answers the demo policy's ` + `queries`,
    close: () => server.close(),
  };
}
