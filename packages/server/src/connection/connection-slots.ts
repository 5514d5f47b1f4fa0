/** One reserved place for a connection; `release()` gives it back, once, however often it is called. */
export interface ConnectionSlot {
  release(): void;
}

/**
 * Counts connections against `maxConnections`, total and per IP, from the moment an upgrade
 * starts: upgrades still waiting on an async `authenticate` hold a place, so a burst cannot slip
 * past the limit, and a place is given back whichever way the upgrade or the connection ends.
 */
export class ConnectionSlots {
  readonly #perIp = new Map<string, number>();
  readonly #maxTotal: number;
  readonly #maxPerIp: number;
  #total = 0;

  constructor(limits: { total: number; perIp: number }) {
    this.#maxTotal = limits.total;
    this.#maxPerIp = limits.perIp;
  }

  /** A place for a connection from `ip`, or undefined when a limit is reached. */
  reserve(ip: string): ConnectionSlot | undefined {
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (this.#total >= this.#maxTotal || fromIp >= this.#maxPerIp) return undefined;
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);
    return new Slot(this, ip);
  }

  /** @internal Gives one place of `ip` back. */
  free(ip: string): void {
    this.#total--;
    const left = (this.#perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.#perIp.set(ip, left);
    else this.#perIp.delete(ip);
  }
}

/** A class rather than a closure: every open connection holds one, so it should be small. */
class Slot implements ConnectionSlot {
  #slots: ConnectionSlots | undefined;
  readonly #ip: string;

  constructor(slots: ConnectionSlots, ip: string) {
    this.#slots = slots;
    this.#ip = ip;
  }

  release(): void {
    this.#slots?.free(this.#ip);
    this.#slots = undefined;
  }
}
