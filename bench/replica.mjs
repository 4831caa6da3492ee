// One controller replica of `BENCH_REPLICAS=N npm run bench -- controller`, in a process of its own
// (forked by bench/replicas.mjs, with the image's node flags and bench/loop-probe.mjs): the operator
// as the controller bench runs it (startOperator and the tick, each tick recorded) with `--shards
// auto`, its membership Lease in the bench's namespace. Usage: replica.mjs KUBECONFIG LEASE_NAMESPACE.
// It answers its parent's messages: `start` begins a window, `stop` ends it and sends back the
// window's ticks and writes (those to its Lease apart); SIGTERM stops it as `kubestead run` stops.
import { IsomorphicFetchHttpLibrary } from '@kubernetes/client-node';
import { startOperator } from '../dist/runtime/controller/operator.js';
import { createLogger } from '../dist/lib/log/logger.js';
import { benchClients, tickRecorder } from './fleet.mjs';

const [kubeconfig, leaseNamespace] = process.argv.slice(2);

// Every request of the operator's API clients goes through this library (ObservedKubeConfig): its
// writes are counted here by resource, since the Lease renewals (one every 2 s) are writes too.
const writes = { other: 0, lease: 0 };
const send = IsomorphicFetchHttpLibrary.prototype.send;
IsomorphicFetchHttpLibrary.prototype.send = function (request) {
  if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.getHttpMethod()))
    writes[/\/leases(\/|\?|$)/.test(request.getUrl()) ? 'lease' : 'other'] += 1;
  return send.call(this, request);
};

const rec = tickRecorder();
const operator = await startOperator({
  kubeConfig: benchClients(kubeconfig).config,
  reconcilerFactory: rec.factory,
  logger: createLogger({ level: 'warn' }),
  shards: true,
  leaseNamespace,
});
let before = { ...writes };
process.on('message', (message) => {
  if (message === 'start') {
    rec.reset();
    rec.on = true;
    before = { ...writes };
    process.send({ started: true });
  } else if (message === 'stop') {
    rec.on = false;
    const gaps = [...rec.starts.values()].flatMap((t) => t.slice(1).map((v, i) => v - t[i]));
    process.send({
      ticks: rec.ticks,
      gaps,
      ticked: [...rec.starts.keys()],
      writes: writes.other - before.other,
      leaseWrites: writes.lease - before.lease,
    });
  }
});
process.on('SIGTERM', () => {
  void operator.stop().then(() => process.exit(0));
});
process.send({ metricsPort: operator.metricsPort });
