// Adoption at scale: how long one replica takes from start to every policy adopted (status.phase
// Idle), at N and 2N policies (BENCH_POLICIES, default 500) in one run, each on a fresh sandbox in
// a process of its own, and the ratio of the two (linear is 2; the target is ≤ 2.5). The sandbox's
// and this process's (the controller's) CPU over the adoption are printed beside it, so that the
// side that grows faster than the count shows. BENCH_CPU_PROF=DIR writes V8 CPU profiles of the
// sandbox there (this process's: run the bench under `node --cpu-prof`).
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startOperator } from '../dist/runtime/controller/operator.js';
import { createTickReconciler } from '../dist/runtime/tick/index.js';
import { createLogger } from '../dist/lib/log/logger.js';
import { benchClients, INTERVAL_S, phases, populate, startProvider, until } from './fleet.mjs';
import { startSandboxProcess } from './support.mjs';

const N = Number(process.env.BENCH_POLICIES ?? 500);
const MAX_RATIO = 2.5;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const mib = (bytes) => bytes / 2 ** 20;

const cpuMsOf = async (pid) => {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

async function adopt(n) {
  const profile = process.env.BENCH_CPU_PROF;
  const sandbox = await startSandboxProcess(undefined, profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []);
  const provider = await startProvider();
  const kc = benchClients(sandbox.kubeconfig);
  try {
    await populate(kc, provider, n);
    const [sandboxCpu, ownCpu, t0] = [await cpuMsOf(sandbox.pid), process.cpuUsage(), Date.now()];
    const operator = await startOperator({
      kubeConfig: kc.config,
      reconcilerFactory: createTickReconciler,
      logger: createLogger({ level: 'error' }),
    });
    await until(async () => (await phases(kc)).Idle === n, 1_800_000, `${n} policies adopted`);
    const seconds = (Date.now() - t0) / 1000;
    const own = process.cpuUsage(ownCpu);
    // one more interval, every policy ticked again; then what the heap keeps
    await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));
    gc();
    const memory = process.memoryUsage();
    const figures = {
      seconds,
      sandboxCpuS: ((await cpuMsOf(sandbox.pid)) - sandboxCpu) / 1000,
      controllerCpuS: (own.user + own.system) / 1e6,
      heapMiB: mib(memory.heapUsed),
      rssMiB: mib(memory.rss),
    };
    await operator.stop();
    console.log(
      `${n} policies adopted in ${seconds.toFixed(1)} s; CPU over it: sandbox ${figures.sandboxCpuS.toFixed(1)} s, ` +
        `controller (this process, with the bench's polling) ${figures.controllerCpuS.toFixed(1)} s; ` +
        `after a full GC, heap used ${figures.heapMiB.toFixed(0)} MiB, RSS ${figures.rssMiB.toFixed(0)} MiB`,
    );
    return figures;
  } finally {
    await provider.close();
    await sandbox.stop();
  }
}

export async function run() {
  const small = await adopt(N);
  const large = await adopt(2 * N);
  const ratio = (key) => (large[key] / small[key]).toFixed(2);
  console.log(
    `ratio 2N/N: time ${ratio('seconds')}, sandbox CPU ${ratio('sandboxCpuS')}, controller CPU ${ratio('controllerCpuS')} (linear: 2)`,
  );
  const perPolicy = (key) => (((large[key] - small[key]) * 1024) / N).toFixed(1);
  console.log(
    `memory a policy (from N to 2N, controller and bench in one process, idle policies): heap ${perPolicy('heapMiB')} KiB, RSS ${perPolicy('rssMiB')} KiB`,
  );
  const ok = large.seconds / small.seconds <= MAX_RATIO;
  console.log(`${ok ? 'PASS' : 'FAIL'}  adoption time grows about linearly (2N/N ≤ ${MAX_RATIO}): ${ratio('seconds')}`);
}
