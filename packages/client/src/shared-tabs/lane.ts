import type { ClientEnvelope } from '@wirecall/core/internal';

/** A tab's virtual socket, as the shared socket sees it: somewhere to send frames and a way to end it. */
export interface Lane {
  /** A frame for the tab: a server envelope's text (as the server sent it, or with the tab's id). */
  send(frame: string): void;
  close(code: number, reason: string): void;
}

/** Where the shared socket's envelopes go, and its ids (calls and subscriptions share one sequence). */
export interface UpstreamLink {
  send(envelope: ClientEnvelope): void;
  nextId(): number;
}
