/** A small typed wrapper over the platform EventTarget: `on(type, fn)` returns an unsubscribe function. */
export class TypedEventTarget<Events extends Record<string, unknown>> extends EventTarget {
  /** Listens to `type`; the listener receives the event's detail. Returns a function that removes the listener. */
  on<K extends keyof Events & string>(type: K, listener: (detail: Events[K]) => void): () => void {
    const wrapped = (evt: Event): void => {
      listener((evt as CustomEvent<Events[K]>).detail);
    };
    this.addEventListener(type, wrapped);
    return () => this.removeEventListener(type, wrapped);
  }

  /** Resolves with the detail of the next `type` event for which `predicate` holds. */
  once<K extends keyof Events & string>(
    type: K,
    predicate: (detail: Events[K]) => boolean = () => true,
    signal?: AbortSignal,
  ): Promise<Events[K]> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        off();
        reject(signal?.reason);
      };
      const off = this.on(type, (detail) => {
        if (!predicate(detail)) return;
        off();
        signal?.removeEventListener('abort', onAbort);
        resolve(detail);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Dispatches `type` with `detail`. Listener exceptions are reported by the platform, never thrown here. */
  emit<K extends keyof Events & string>(type: K, detail: Events[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
