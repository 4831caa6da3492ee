#!/usr/bin/env node
// The test entry point of `kubestead run` for restart-safety tests: `kubestead run` as shipped
// (dist/, the same code as the bundle), with a hook that exits the process with code 137 — as a
// SIGKILL would, without finishing the tick, flushing logs or releasing the Lease — the NTH time
// (default 1) a tick reaches POINT. Usage: crashing-run.mjs POINT[:NTH] [kubestead run flags…]
// The shipped code reads no environment variable or file for this: the hook is passed in here.
import { parseCommandArgs } from '../../dist/tools/cli/args.js';
import { runOperator, RUN_OPTIONS } from '../../dist/tools/cli/run.js';
import { CRASH_POINTS } from '../../dist/runtime/tick/crash.js';

const [at = '', ...args] = process.argv.slice(2);
const [point, nth = '1'] = at.split(':');
if (!CRASH_POINTS.includes(point) || !/^[1-9]\d*$/.test(nth)) {
  console.error(
    `crashing-run: expected POINT[:NTH] with POINT one of ${CRASH_POINTS.join(', ')}, got ${JSON.stringify(at)}`,
  );
  process.exit(2);
}
let seen = 0;
const crash = (reached) => {
  if (reached === point && ++seen === Number(nth)) process.exit(137);
};
process.exitCode = await runOperator(parseCommandArgs(args, RUN_OPTIONS), { crash });
