/** One Server-Sent Events message, or a comment line (`: ping`). */
export type SseMessage = { event: string; data: string; comment?: undefined } | { comment: string };

/**
 * An incremental `text/event-stream` parser (the WHATWG "event stream interpretation"): feed it
 * text as it arrives, in any slices; it calls back once per complete message and per comment.
 * `id` and `retry` lines are read past: the client resumes with `after` in its own `sub` frames.
 */
export class SseReader {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  readonly #emit: (message: SseMessage) => void;

  constructor(emit: (message: SseMessage) => void) {
    this.#emit = emit;
  }

  push(text: string): void {
    this.#buffer += text;
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.#buffer);
      // A lone '\r' at the end may be the first half of '\r\n': wait for the next slice.
      if (match === null || (match[0] === '\r' && match.index === this.#buffer.length - 1)) return;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) this.#emit({ event: this.#event || 'message', data: this.#data.join('\n') });
      this.#event = '';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) {
      this.#emit({ comment: line.slice(1).trim() });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
  }
}
