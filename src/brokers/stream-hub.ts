/** Fan-out of one account's order stream to its subscribers; every adapter uses it. */
import type { BrokerOrder } from '../domain/order.js';
import type { StreamListener, StreamState } from './port.js';

export class StreamHub {
  private readonly listeners = new Set<StreamListener>();
  private current: StreamState = 'stopped';

  get state(): StreamState {
    return this.current;
  }

  subscribe(l: StreamListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  update(u: BrokerOrder): void {
    for (const l of this.listeners) l.onUpdate(u);
  }

  setState(s: StreamState, detail?: string): void {
    if (s === this.current && s !== 'connected') return;
    this.current = s;
    for (const l of this.listeners) l.onState?.(s, detail);
  }
}
