// A small typed event emitter. `on` returns the function that removes the
// listener. A listener that throws does not stop the others; the error is
// reported with console.error.
//
// An event emitted while a listener of this emitter runs is delivered once
// the event being delivered has reached every listener, in the order they
// were emitted: every listener sees the events in one order. (Delivered at
// once, a change made from inside a listener reached the listeners after it
// before the change it answered, and their positions no longer matched.)

export type Listener<T> = (value: T) => void;

export class Emitter<Events extends Record<string, unknown>> {
  private listeners = new Map<keyof Events, Set<Listener<never>>>();
  // Events waiting for the one being delivered (one array for the
  // emitter's life: an emit per edit allocates no queue).
  private readonly queued: (() => void)[] = [];
  private delivering = false;

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof Events>(event: K, value: Events[K]): void {
    // The listeners when it was emitted (one added later, say an editor
    // made from the text that already holds this change, does not get
    // it), but for those removed since (as DOM events do).
    const at = [...(this.listeners.get(event) ?? [])];
    const deliver = () => {
      const now = this.listeners.get(event);
      for (const l of at) {
        if (!now?.has(l)) continue;
        try {
          (l as Listener<Events[K]>)(value);
        } catch (e) {
          console.error(`weft: a '${String(event)}' listener threw`, e);
        }
      }
    };
    if (this.delivering) {
      this.queued.push(deliver);
      return;
    }
    this.delivering = true;
    try {
      deliver();
      for (let i = 0; i < this.queued.length; ++i) this.queued[i]();
    } finally {
      this.queued.length = 0;
      this.delivering = false;
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
