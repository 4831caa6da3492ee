import { compileCommand } from './compile.js';
import { evalCommand } from './eval.js';
import { overrideCommand } from './override.js';
import { queryCommand } from './query.js';
import { runCommand } from './run.js';
import { sandboxCommand } from './sandbox.js';
import { testCommand } from './test.js';
import { validateCommand } from './validate.js';

export interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  validate: validateCommand,
  compile: compileCommand,
  eval: evalCommand,
  test: testCommand,
  query: queryCommand,
  sandbox: sandboxCommand,
  run: runCommand,
  promote: overrideCommand('promote'),
  abort: overrideCommand('abort'),
  pause: overrideCommand('pause'),
  resume: overrideCommand('resume'),
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: kubestead COMMAND [ARGS]\n\nCommands:\n${lines.join('\n')}\n\nRun 'kubestead COMMAND --help' for a command's options.\n`;
}
