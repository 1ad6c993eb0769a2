import type { ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** One line for the parent's help (subcommands). */
  summary?: string;
  /** Subcommands (`enjambre data list`): each with its own options; the parent's `run` is not called. */
  subcommands?: Record<string, Command>;
  /** Positional arguments in commander's syntax (`'<name> [more...]'`); none are accepted without it. */
  positionals?: string;
  run(
    values: Record<string, unknown>,
    positionals: string[],
  ): Promise<number | undefined> | number | undefined;
  /** Rewrites the arguments before parsing (options with an optional value). */
  preprocess?(args: string[]): string[];
}

/** One line of the top-level help, and the module that implements the command. */
export interface CommandEntry {
  summary: string;
  load(): Promise<Command>;
}

/**
 * Every command, in the order of the help. A command's module (and with it libp2p, onnxruntime…)
 * is loaded only when that command runs, so that `enjambre --version` and `--help` start at once.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  ops: {
    summary: 'list the ONNX op types the autodiff can differentiate',
    load: async () => (await import('./ops.ts')).ops,
  },
  gradcheck: {
    summary: "check a model's gradients against finite differences",
    load: async () => (await import('./gradcheck.ts')).gradcheck,
  },
  init: {
    summary: 'probe this machine and write a commented node config',
    load: async () => (await import('./init.ts')).init,
  },
  doctor: {
    summary: 'check this machine and a node config: providers, files, ports, peers',
    load: async () => (await import('./doctor.ts')).doctor,
  },
  train: {
    summary: 'train a model on this node alone, from a config file',
    load: async () => (await import('./train.ts')).train,
  },
  join: {
    summary: 'run this node as a peer of the swarm its config names',
    load: async () => (await import('./join.ts')).join,
  },
  status: {
    summary: 'watch a swarm: peers, hardware, rounds, loss, throughput, traffic',
    load: async () => (await import('./status.ts')).status,
  },
  demo: {
    summary: 'start a small local swarm on a built-in task, with the inspector',
    load: async () => (await import('./demo.ts')).demo,
  },
  'swarm-key': {
    summary: 'create the pre-shared key of a private swarm',
    load: async () => (await import('./swarm-key.ts')).swarmKey,
  },
  export: {
    summary: 'write a trained checkpoint as a plain .onnx inference model',
    load: async () => (await import('./export.ts')).exportCommand,
  },
};
