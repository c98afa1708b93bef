import type { EventName, EventOf } from '../../shared/api';

type Listener<E extends EventName> = (payload: EventOf<E>) => void;

/** Typed core → UI events. The app shell forwards them to windows; tests and the CLI listen directly. */
export class EventBus {
  private readonly listeners = new Map<EventName, Set<Listener<EventName>>>();

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<EventName>);
    return () => set.delete(listener as Listener<EventName>);
  }

  /** Listens to every event, e.g. to forward them over IPC. */
  onAny(listener: <E extends EventName>(event: E, payload: EventOf<E>) => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  emit<E extends EventName>(event: E, payload: EventOf<E>): void {
    for (const l of this.listeners.get(event) ?? []) l(payload);
    for (const l of this.anyListeners) l(event, payload);
  }

  private readonly anyListeners = new Set<<E extends EventName>(event: E, payload: EventOf<E>) => void>();
}
