/**
 * The message list, in the order the messages were written (`at`). Two sources feed it: the room's
 * live stream (including what the library replays after a reconnect) and `history` (on joining, and
 * after a gap). Those overlap, so they are merged by message id. The stream itself must deliver each
 * message once: if it ever delivers one twice, the copy is rendered too (marked `duplicate`), so the
 * bug is visible instead of hidden by the merge.
 */
import type { Message } from '../contract.js';

export type Source = 'event' | 'history';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export class MessageList {
  readonly #list: HTMLOListElement;
  readonly #empty: HTMLElement;
  readonly #seen = new Map<string, Source>();
  readonly #author: () => string;

  constructor(list: HTMLOListElement, empty: HTMLElement, author: () => string) {
    this.#list = list;
    this.#empty = empty;
    this.#author = author;
  }

  clear(): void {
    this.#seen.clear();
    this.#list.replaceChildren();
    this.#empty.hidden = false;
  }

  add(message: Message, source: Source): void {
    const seen = this.#seen.get(message.id);
    if (seen !== undefined && !(seen === 'event' && source === 'event')) return;
    this.#seen.set(message.id, source);
    const item = this.#render(message);
    item.dataset.source = source;
    if (seen !== undefined) {
      item.classList.add('duplicate');
      this.#list.dataset.duplicates = String(Number(this.#list.dataset.duplicates ?? '0') + 1);
    }
    // Usually the newest: walk back from the end to the first message not newer than this one.
    let before: Element | null = null;
    for (let node = this.#list.lastElementChild; node !== null; node = node.previousElementSibling) {
      if (Number((node as HTMLElement).dataset.at) <= message.at.getTime()) break;
      before = node;
    }
    const atBottom = this.#list.scrollHeight - this.#list.scrollTop - this.#list.clientHeight < 40;
    this.#list.insertBefore(item, before);
    this.#empty.hidden = true;
    if (atBottom) this.#list.scrollTop = this.#list.scrollHeight;
  }

  #render(message: Message): HTMLLIElement {
    const item = document.createElement('li');
    item.className = message.author === this.#author() ? 'message own' : 'message';
    item.dataset.testid = 'message';
    item.dataset.id = message.id;
    item.dataset.at = String(message.at.getTime());

    // `at` arrives as a Date (superjson), so Date methods work on it directly: no parsing here.
    const time = document.createElement('time');
    time.dateTime = message.at.toISOString();
    time.title = message.at.toString();
    time.textContent = timeFormat.format(message.at);
    time.dataset.type = message.at instanceof Date ? 'Date' : typeof message.at;

    const author = document.createElement('span');
    author.className = 'author';
    author.textContent = message.author;

    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = message.text;

    item.append(time, author, text);
    return item;
  }
}
