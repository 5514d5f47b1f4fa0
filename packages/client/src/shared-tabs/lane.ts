/** A tab's virtual socket, as the shared socket sees it: somewhere to send frames and a way to end it. */
export interface Lane {
  send(frame: string): void;
  close(code: number, reason: string): void;
}

/** A frame from a tab or the server, parsed but not yet trusted. */
export interface Frame {
  t?: unknown;
  id?: unknown;
  [field: string]: unknown;
}

/** Where the shared socket's frames go, and its ids (calls and subscriptions share one sequence). */
export interface UpstreamLink {
  send(text: string): void;
  nextId(): number;
}
