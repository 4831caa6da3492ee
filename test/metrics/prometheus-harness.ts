import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from './helpers.js';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const IN_CI = process.env.CI === 'true';

/**
 * Whether the real-Prometheus tests run: the binary is there, or we are in CI (where a missing
 * binary must fail the run, not skip it). Locally a missing binary skips them, loudly.
 */
export function prometheusTestsEnabled(): boolean {
  if (existsSync(PROMETHEUS_BIN) || IN_CI) return true;
  console.warn(
    `\n!!!!!!!!\n!!! ${PROMETHEUS_BIN} not found: the real-Prometheus tests are SKIPPED.\n!!! Install the Debian package "prometheus" (CI does; there a missing binary fails the run).\n!!!!!!!!\n`,
  );
  return false;
}

/**
 * A tiny exporter the test controls: every scrape adds, per track, requests (canary: 10 OK and 1
 * error; stable: 20 OK, 0 errors) and 10 histogram observations (5 ≤ 0.1 s, 4 in (0.1, 0.5], 1 in
 * (0.5, 1]), and a counter that never moves. So: the canary 5xx ratio is 1/11, the canary p90 is 0.5 s.
 */
export class Exporter {
  scrapes = 0;
  /** Canary 5xx responses added per scrape (default 1); raise it to make the canary fail. */
  canaryErrors = 1;

  text(): string {
    const n = ++this.scrapes;
    const lines = ['# TYPE http_requests_total counter'];
    const requests: [string, string, number][] = [
      ['canary', '200', 10],
      ['canary', '500', this.canaryErrors],
      ['stable', '200', 20],
      ['stable', '500', 0],
    ];
    for (const [track, code, per] of requests)
      lines.push(`http_requests_total{app="checkout",track="${track}",code="${code}"} ${per * n}`);
    lines.push('# TYPE http_request_duration_seconds histogram');
    for (const track of ['canary', 'stable']) {
      for (const [le, per] of [
        ['0.1', 5],
        ['0.5', 9],
        ['1', 10],
        ['+Inf', 10],
      ] as const) {
        lines.push(`http_request_duration_seconds_bucket{app="checkout",track="${track}",le="${le}"} ${per * n}`);
      }
      lines.push(`http_request_duration_seconds_sum{app="checkout",track="${track}"} ${3 * n}`);
      lines.push(`http_request_duration_seconds_count{app="checkout",track="${track}"} ${10 * n}`);
    }
    lines.push('# TYPE idle_total counter', 'idle_total{app="checkout"} 0');
    return `${lines.join('\n')}\n`;
  }
}

export interface PrometheusHarness {
  url: string;
  exporter: Exporter;
  /** Stops Prometheus (its port then refuses connections); the exporter keeps running. */
  stopPrometheus(): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForData(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 45_000;
  const query = encodeURIComponent('sum(rate(http_requests_total{track="canary"}[5s]))');
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/api/v1/query?query=${query}`);
      const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
      if (Number(body.data?.result?.[0]?.value[1]) > 0) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error(`prometheus had no data after 45 s:\n${log()}`);
}

/** Starts the exporter and /usr/bin/prometheus (1 s scrape, temporary data dir) on loopback ports; waits for data. */
export async function startPrometheus(): Promise<PrometheusHarness> {
  if (!existsSync(PROMETHEUS_BIN))
    throw new Error(`${PROMETHEUS_BIN} not found; CI installs the Debian package "prometheus" (.ci/run)`);
  const exporter = new Exporter();
  const metrics: TestServer = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(exporter.text());
  });
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-prom-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: exporter\n    static_configs: [{targets: ['127.0.0.1:${metrics.port}']}]\n`,
  );
  const started = await startPrometheusProcess(config, dir);
  const stop = async () => {
    await started.stopPrometheus();
    await metrics.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForData(started.url, started.child, started.log);
    return { url: started.url, exporter, stopPrometheus: started.stopPrometheus, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const LISTENING = /msg="Listening on" address=127\.0\.0\.1:(\d+)/;

/** The port Prometheus bound (it listens on port 0 and logs the address it got), or why it has none. */
function listeningPort(child: ChildProcess, log: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const port = LISTENING.exec(log())?.[1];
      if (port) done(() => resolve(Number(port)));
    };
    const onExit = (): void => done(() => reject(new Error(`prometheus exited before listening:\n${log()}`)));
    const done = (settle: () => void): void => {
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      settle();
    };
    // after the harness's own listener, which appends the chunk to the log
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function startPrometheusProcess(
  config: string,
  dir: string,
): Promise<{ url: string; child: ChildProcess; log: () => string; stopPrometheus: () => Promise<void> }> {
  // Port 0: Prometheus binds a free port itself and holds it (no port chosen here and released, which a parallel test could take).
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const stopPrometheus = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  try {
    const port = await listeningPort(child, () => log);
    return { url: `http://127.0.0.1:${port}`, child, log: () => log, stopPrometheus };
  } catch (error) {
    await stopPrometheus();
    throw error;
  }
}

export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';

/** The real Prometheus serving recorded data: no scraping, the blocks promtool built from an OpenMetrics text. */
export interface RecordedPrometheus {
  url: string;
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log()}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`prometheus was not ready after 45 s:\n${log()}`);
}

/**
 * Writes `openMetrics` (an OpenMetrics text ending in `# EOF`, timestamps in Unix seconds), turns it
 * into TSDB blocks with `promtool tsdb create-blocks-from openmetrics`, and starts /usr/bin/prometheus
 * on them: a past timeline that range queries read as they would read a real one.
 */
export async function servePrometheusData(openMetrics: string): Promise<RecordedPrometheus> {
  for (const bin of [PROMETHEUS_BIN, PROMTOOL_BIN])
    if (!existsSync(bin)) throw new Error(`${bin} not found; CI installs the Debian package "prometheus" (.ci/run)`);
  const dir = await mkdtemp(join(tmpdir(), 'kubestead-promdata-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await writeFile(join(dir, 'timeline.om'), openMetrics);
    const created = spawnSync(
      PROMTOOL_BIN,
      ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'timeline.om'), join(dir, 'data')],
      { encoding: 'utf8' },
    );
    if (created.status !== 0)
      throw new Error(`promtool failed (${created.status}):\n${created.stderr}${created.stdout}`);
    const config = join(dir, 'prometheus.yml');
    await writeFile(config, 'global: {scrape_interval: 1m}\n');
    const started = await startPrometheusProcess(config, dir);
    try {
      await waitReady(started.url, started.child, started.log);
    } catch (error) {
      await started.stopPrometheus();
      throw error;
    }
    return {
      url: started.url,
      stop: async () => {
        await started.stopPrometheus();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
