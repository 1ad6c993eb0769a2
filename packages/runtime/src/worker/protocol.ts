/** Messages between a {@link WorkerRunner} and the onnxruntime thread (worker.ts). */
import type { HostTensor } from '@enjambre/autograd';
import type { ProviderName, ProviderNotice, ProviderOptions } from '../providers.ts';

/** The provider options a session is created with, minus what cannot cross threads (callbacks, signals). */
export type WorkerSessionOptions = Omit<ProviderOptions, 'onNotice' | 'signal'>;

export type Request =
  | { kind: 'create'; call: number; model: Uint8Array; options: WorkerSessionOptions }
  | { kind: 'run'; call: number; session: number; feeds: Record<string, HostTensor>; fetches?: string[] }
  | { kind: 'release'; call: number; session: number };

export type Reply =
  | {
      kind: 'created';
      call: number;
      session: number;
      provider: ProviderName;
      notices: ProviderNotice[];
      inputNames: string[];
      outputNames: string[];
    }
  | { kind: 'ran'; call: number; outputs: Record<string, HostTensor> }
  | { kind: 'released'; call: number }
  | { kind: 'failed'; call: number; message: string };
