import { auditCommand } from './audit.js';
import { backtestCommand } from './backtest.js';
import { compileCommand } from './compile.js';
import { dashboardCommand } from './dashboard.js';
import { demoCommand } from './demo.js';
import { evalCommand } from './eval.js';
import { overrideCommand } from './override.js';
import { queryCommand } from './query.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { sandboxCommand } from './sandbox.js';
import { statusCommand } from './status.js';
import { testCommand } from './test.js';
import { validateCommand } from './validate.js';
import type { Command } from './define.js';

/** Every command, by name, in the order `kubestead help` lists them: one line per command. */
export const commands: Record<string, Command> = {
  demo: demoCommand,
  validate: validateCommand,
  compile: compileCommand,
  eval: evalCommand,
  test: testCommand,
  query: queryCommand,
  backtest: backtestCommand,
  sandbox: sandboxCommand,
  audit: auditCommand,
  report: reportCommand,
  status: statusCommand,
  dashboard: dashboardCommand,
  run: runCommand,
  promote: overrideCommand('promote'),
  abort: overrideCommand('abort'),
  pause: overrideCommand('pause'),
  resume: overrideCommand('resume'),
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    'Usage: kubestead COMMAND [ARGS]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'kubestead help COMMAND' (or 'kubestead COMMAND --help') for a command's arguments, options and exit codes.",
    "'kubestead --version' prints the version. A FILE argument of '-' reads standard input.",
    '',
  ].join('\n');
}
