/**
 * Who has the room open, and who is typing: the room's presence, drawn as a list of names and one
 * "… is typing" line. The page joins with its name; typing sets `typing` in its member data, which
 * clears itself after a pause (so a notice never outlives the typist) or when the message is sent.
 */
import type { Presence } from '@wirecall/client/presence';

/** A typist who pauses this long is no longer typing. */
const TYPING_PAUSE_MS = 2_000;

interface Member {
  name: string;
  typing: boolean;
}

export class WhoIsHere {
  readonly #list: HTMLElement;
  readonly #typingLine: HTMLElement;
  #presence: Presence<Member, { name: string; typing?: boolean }> | undefined;
  #stop: (() => void) | undefined;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #name = '';

  constructor(list: HTMLElement, typingLine: HTMLElement) {
    this.#list = list;
    this.#typingLine = typingLine;
  }

  /** Shows (and joins) another room's presence, as `name`; the page closes the previous one. */
  show(presence: Presence<Member, { name: string; typing?: boolean }>, name: string): void {
    this.#stop?.();
    this.#presence = presence;
    this.#name = name;
    presence.join({ name });
    this.#stop = presence.subscribe(() => this.#draw());
    this.#draw();
  }

  rename(name: string): void {
    this.#name = name;
    this.#presence?.join({ name, typing: false });
  }

  /** A key was pressed in the composer. */
  typed(): void {
    if (this.#typingTimer === undefined) this.#presence?.join({ name: this.#name, typing: true });
    clearTimeout(this.#typingTimer);
    this.#typingTimer = setTimeout(() => this.stoppedTyping(), TYPING_PAUSE_MS);
  }

  /** The message was sent, or the typist paused. */
  stoppedTyping(): void {
    if (this.#typingTimer === undefined) return;
    clearTimeout(this.#typingTimer);
    this.#typingTimer = undefined;
    this.#presence?.join({ name: this.#name, typing: false });
  }

  #draw(): void {
    const presence = this.#presence;
    if (presence === undefined) return;
    const members = [...presence.members.values()];
    const items = members
      .map((member) => {
        const item = document.createElement('li');
        item.textContent = member.data.name;
        if (member.key === presence.me) item.dataset.me = 'true';
        return item;
      })
      .sort((a, b) => (a.textContent ?? '').localeCompare(b.textContent ?? ''));
    this.#list.replaceChildren(...items);
    this.#list.dataset.count = String(presence.count);
    const typists = members.filter((member) => member.data.typing && member.key !== presence.me);
    this.#typingLine.textContent =
      typists.length === 0
        ? ''
        : `${typists.map((member) => member.data.name).join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…`;
  }
}
