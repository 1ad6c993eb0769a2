import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMMANDS } from './commands/index.ts';
import { formatError, UsageError } from './output.ts';

const USAGE = `enjambre: peer-to-peer training with no central coordinator

Usage: enjambre <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`enjambre <command> --help\` for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 1;
  }
  if (name === '--version') {
    // The same path from src/ and from dist/.
    const manifest = new URL('../package.json', import.meta.url);
    console.log((JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version);
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) throw new UsageError(`unknown command '${name}'\n\n${USAGE}`);
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: command.preprocess ? command.preprocess(rest) : rest,
      options: command.options,
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${command.usage}`);
  }
  return (await command.run(parsed.values as Record<string, unknown>)) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(formatError(err));
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
