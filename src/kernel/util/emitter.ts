/** A tiny typed event emitter (the kernel library stays free of node modules). */
export type Listener<T> = (event: T) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  on<K extends keyof Events>(name: K, fn: Listener<Events[K]>): () => void {
    let set = this.listeners[name];
    if (!set) {
      set = new Set();
      this.listeners[name] = set;
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const set = this.listeners[name];
    if (!set) return;
    for (const fn of [...set]) fn(event);
  }

  listenerCount<K extends keyof Events>(name: K): number {
    return this.listeners[name]?.size ?? 0;
  }

  clear(): void {
    this.listeners = {};
  }
}
