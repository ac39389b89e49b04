/**
 * Fan-out of one account's order stream to its subscribers; every adapter uses it. A listener that
 * throws does not keep the update from the others: every listener runs, then the first error is
 * thrown for the adapter's stream guard to log.
 */
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
    each(this.listeners, (l) => l.onUpdate(u));
  }

  setState(s: StreamState, detail?: string): void {
    if (s === this.current && s !== 'connected') return;
    this.current = s;
    each(this.listeners, (l) => l.onState?.(s, detail));
  }
}

function each(listeners: Set<StreamListener>, call: (l: StreamListener) => void): void {
  let failure: { err: unknown } | null = null;
  for (const l of listeners) {
    try {
      call(l);
    } catch (err) {
      failure ??= { err };
    }
  }
  if (failure) throw failure.err;
}
