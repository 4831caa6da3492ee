import { packageVersion } from '../../lib/root.js';
import { closest } from '../../pipeline/policy/strict.js';
import { scrubUserinfo } from '../../pipeline/policy/urls.js';
import { EXIT } from './args.js';
import { commands, usage } from './commands.js';
import type { Command } from './define.js';
import { CommandUnavailable, UsageError } from './usage-error.js';

const HELP_FLAGS = new Set(['--help', '-h']);

/** Runs the `kubestead` command; returns the exit code (0 ok, 1 failed check or test, 2 bad input, 3 a bug). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return EXIT.badInput;
  }
  if (HELP_FLAGS.has(name)) return printed(usage());
  if (name === 'help') return help(rest);
  if (name === '--version' || name === '-V' || name === 'version') return printed(`kubestead ${packageVersion()}\n`);
  const command = commands[name];
  if (!command) return unknownCommand(name);
  if (rest.some((arg) => HELP_FLAGS.has(arg))) return printed(`${command.help}\n`);
  return runCommand(name, command, rest);
}

async function runCommand(name: string, command: Command, args: string[]): Promise<number> {
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(
        `kubestead ${name}: ${scrubUserinfo(error.message)}\nRun 'kubestead help ${name}' for usage.\n`,
      );
      return EXIT.badInput;
    }
    if (error instanceof CommandUnavailable) {
      process.stderr.write(`kubestead ${name}: ${error.message}\n`);
      return EXIT.badInput;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(
      `kubestead ${name}: internal error (a bug in Kubestead; please report it with this ` +
        `output):\n${scrubUserinfo(detail)}\n`,
    );
    return EXIT.bug;
  }
}

function help(topics: string[]): number {
  const [topic] = topics;
  if (topic === undefined) return printed(usage());
  const command = commands[topic];
  return command ? printed(`${command.help}\n`) : unknownCommand(topic);
}

function unknownCommand(name: string): number {
  const hint = closest(name, Object.keys(commands));
  const didYouMean = hint ? ` (did you mean "${hint}"?)` : '';
  process.stderr.write(`kubestead: unknown command "${name}"${didYouMean}; run 'kubestead help' for the list\n`);
  return EXIT.badInput;
}

function printed(text: string): number {
  process.stdout.write(text);
  return EXIT.ok;
}
