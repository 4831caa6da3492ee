// Loaded into `kubestead run` by the controller bench (`node --import`), nowhere else: the event
// loop's longest stall of each second, at 1 ms resolution, appended to BENCH_LOOP_PROBE_FILE as
// "<epoch ms> <ms>". prom-client's nodejs_eventloop_lag_max_seconds samples every 10 ms and reports
// the whole gap between two samples: it reads up to 10 ms more than the stall itself (measured: an
// idle loop reads 10.8 ms, a 30 ms block 38.1 ms; at 1 ms resolution 2.0 and 31.8 ms).
import { appendFile } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.BENCH_LOOP_PROBE_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // An asynchronous write: a synchronous one would block the very loop it measures.
  setInterval(() => {
    appendFile(file, `${Date.now()} ${(delay.max / 1e6).toFixed(2)}\n`, () => undefined);
    delay.reset();
  }, 1000).unref();
}
