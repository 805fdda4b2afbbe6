/**
 * A minimal typed event emitter that runs in browsers (no `node:events`). A listener that
 * throws does not stop the others or the device: its error is passed to `onListenerError`.
 * @module
 */

/** An unsubscribe function returned by `on`. */
export type Unsubscribe = () => void;

/** Typed emitter over an event map `{ name: payload }`. */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(value: never) => void>>();
  readonly #onListenerError: (error: unknown) => void;

  /** @param onListenerError receives what a listener throws */
  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): Unsubscribe {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    const fn = listener as (value: never) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Number of listeners for `name`. */
  count(name: keyof Events): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  /** Calls every listener of `name` synchronously, in subscription order. */
  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (value: Events[K]) => void)(value);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
