import { readFileSync } from 'node:fs';
import { CommanderError, Option, Command as Program } from 'commander';
import { COMMANDS, type Command } from './commands/index.ts';
import { EXIT, formatError, UsageError } from './output.ts';

const GLOBAL_OPTIONS = `Options of every command:
  --quiet                only warnings and errors
  --log-level LEVEL      trace, debug, info (default), warn, error or silent; debug also shows
                         onnxruntime's own log lines
  --log-format FORMAT    text (default) or json (one JSON object per line on stderr)
  --version, --help`;

const USAGE = `enjambre: peer-to-peer training with no central coordinator

Usage: enjambre <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

${GLOBAL_OPTIONS}

Run \`enjambre <command> --help\` for a command's options.`;

/** Global options that take a value: the word after them is not the command's name. */
const GLOBAL_WITH_VALUE = new Set(['--log-level', '--log-format']);

/** The first word that is not an option (nor a global option's value): the command's name. */
function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (GLOBAL_WITH_VALUE.has(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return undefined;
}

/**
 * Adds a command's parseArgs-style option table to a commander command and returns how to map
 * commander's camel-cased values back to the table's names (what the commands read).
 */
function addOptions(
  cmd: Program,
  options: Command['options'],
): (opts: Record<string, unknown>) => Record<string, unknown> {
  const names: [string, string][] = [];
  for (const [name, o] of Object.entries(options)) {
    const flags = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ' <value>' : ''}`;
    const option = new Option(flags);
    // `--no-web` is a flag of its own here, not commander's negation of `--web`.
    option.negate = false;
    if (o.multiple) {
      // A repeated option collects its values; given ones replace the default (as parseArgs does).
      option.argParser((v: string, prev: unknown) =>
        Array.isArray(prev) && prev !== o.default ? [...prev, v] : [v],
      );
    }
    if (o.default !== undefined) option.default(o.default);
    cmd.addOption(option);
    names.push([option.attributeName(), name]);
  }
  return (opts) =>
    Object.fromEntries(names.filter(([a]) => opts[a] !== undefined).map(([a, n]) => [n, opts[a]]));
}

/** Makes `cmd` run `command` (its options, help text, subcommands and positionals). */
function define(
  cmd: Program,
  command: Command,
  path: string,
  run: (go: () => Promise<number | undefined>) => void,
): void {
  const values = addOptions(cmd, command.options);
  cmd.helpInformation = () => `${command.usage}\n\n${GLOBAL_OPTIONS}\n`;
  cmd.configureOutput(output(path));
  if (command.subcommands) {
    for (const [name, sub] of Object.entries(command.subcommands)) {
      define(cmd.command(name).description(sub.summary ?? ''), sub, `${path} ${name}`, run);
    }
    return;
  }
  if (command.positionals) cmd.arguments(command.positionals);
  cmd.action((...args: unknown[]) => {
    const self = args.at(-1) as Program;
    const positionals = args.slice(0, -2).flatMap((a) => (a === undefined ? [] : a)) as string[];
    run(() => Promise.resolve(command.run(values(self.opts()), positionals)));
  });
}

/** Commander's messages ("error: unknown option '--confg'\n(Did you mean --config?)") as ours. */
function output(path: string) {
  return {
    outputError: (text: string, write: (s: string) => void) =>
      write(
        `enjambre: ${text.replace(/^error: /, '').trimEnd()}\nRun \`enjambre ${path}${path ? ' ' : ''}--help\` for the options.\n`,
      ),
  };
}

async function main(argv: string[]): Promise<number> {
  const name = commandName(argv);
  if (argv.length === 0 || name === 'help') {
    const topic = argv[argv.indexOf('help') + 1];
    if (topic && Object.hasOwn(COMMANDS, topic)) return main([topic, '--help']);
    console.log(USAGE);
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const program = new Program('enjambre')
    .exitOverride()
    .helpCommand(false)
    .configureOutput(output(''))
    .addOption(new Option('--quiet'))
    .addOption(
      new Option('--log-level <level>').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
    )
    .addOption(new Option('--log-format <format>').choices(['text', 'json']).default('text'));
  program.helpInformation = () => `${USAGE}\n`;
  if (argv.includes('--version') && (!name || !Object.hasOwn(COMMANDS, name))) {
    // The same path from src/ and from dist/.
    const manifest = new URL('../package.json', import.meta.url);
    console.log((JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version);
    return EXIT.ok;
  }
  // Only the command that runs is loaded (with libp2p, onnxruntime…): help stays instant.
  const entry = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const command = await entry?.load();
  let args = argv;
  if (command?.preprocess) {
    const at = argv.indexOf(name as string);
    args = [...argv.slice(0, at + 1), ...command.preprocess(argv.slice(at + 1))];
  }
  let pending: (() => Promise<number | undefined>) | undefined;
  for (const [cmdName, { summary }] of Object.entries(COMMANDS)) {
    const cmd = program.command(cmdName).description(summary);
    if (command && cmdName === name) {
      define(cmd, command, cmdName, (go) => {
        pending = go;
      });
    }
  }
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.usage;
  }
  if (!pending) return EXIT.ok;
  const globals = program.opts() as { quiet?: boolean; logLevel?: string; logFormat: 'text' | 'json' };
  const { configureLogging } = await import('./log.ts');
  configureLogging({
    level: globals.logLevel ?? (globals.quiet ? 'warn' : 'info'),
    format: globals.logFormat,
  });
  return (await pending()) ?? EXIT.ok;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    const { log, logSettings } = await import('./log.ts');
    const line = formatError(err);
    if (logSettings().format === 'json')
      log().error({ code: (err as { code?: unknown }).code }, line.replace(/^enjambre: /, ''));
    else console.error(line);
    process.exitCode =
      err instanceof UsageError ? EXIT.usage : ((err as { exitCode?: number }).exitCode ?? EXIT.failure);
  },
);
