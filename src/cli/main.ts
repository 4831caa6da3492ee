import { commands, usage } from './commands.js';
import { UsageError } from './usage-error.js';

/** Runs the `kubestead` command; returns the exit code (0 ok, 1 failed check or test, 2 bad input). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`kubestead: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`kubestead ${name}: ${error.message}\n\n${command.help}\n`);
      return 2;
    }
    process.stderr.write(`kubestead ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
