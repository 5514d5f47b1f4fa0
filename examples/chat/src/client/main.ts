/**
 * The chat page: plain DOM, no framework. One wirecall client for the page's lifetime; joining a
 * room subscribes to that room's `message` stream and loads its recent history. The library does
 * the rest: it reconnects with backoff (shown on the badge), resubscribes after the last message the
 * page saw so messages sent meanwhile arrive once, and reports a gap (shown as a notice, followed by
 * a refetch) when the server could not replay them.
 *
 * URL parameters: `room` (a, b or c), `name`, and the reconnect backoff (`minDelayMs`, `maxDelayMs`,
 * `factor`, `jitter`, `maxAttempts`; the library's defaults when absent).
 */
import { createClient, isWirecallError, type ReconnectOptions } from '@wirecall/client';
import { binaryFrames } from '@wirecall/client/binary';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import { api, Room } from '../contract.js';
import { watchConnection } from './connection-badge.js';
import { MessageList } from './message-list.js';
import { WhoIsHere } from './who-is-here.js';

const params = new URLSearchParams(location.search);

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

/** Backoff settings from the URL (tests use short ones); absent or invalid ones keep the defaults. */
function reconnectFromUrl(): ReconnectOptions {
  const options: ReconnectOptions = {};
  for (const key of ['minDelayMs', 'maxDelayMs', 'factor', 'jitter', 'maxAttempts'] as const) {
    const raw = params.get(key);
    const value = raw === null || raw === '' ? Number.NaN : Number(raw);
    if (Number.isFinite(value) && value >= 0) options[key] = value;
  }
  return options;
}

const nameInput = element<HTMLInputElement>('name');
const textInput = element<HTMLInputElement>('text');
const gap = element<HTMLElement>('gap');
const errorBox = element<HTMLElement>('error');
const roomButtons = Array.from(document.querySelectorAll<HTMLButtonElement>('[data-room]'));

nameInput.value =
  params.get('name') ??
  localStorage.getItem('wirecall-chat-name') ??
  `guest-${Math.floor(Math.random() * 9_000 + 1_000)}`;
const author = (): string => nameInput.value.trim();

const messages = new MessageList(element<HTMLOListElement>('messages'), element('empty'), author);
const whoIsHere = new WhoIsHere(element('online'), element('typing'));
nameInput.addEventListener('change', () => {
  localStorage.setItem('wirecall-chat-name', author());
  whoIsHere.rename(author());
});

const client = createClient(api, {
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  reconnect: reconnectFromUrl(),
  streams, // the bot's answers are a streaming procedure
  binary: binaryFrames(), // shared files travel as raw bytes, not base64
  presence, // who has the room open
});
watchConnection(element('connection'), client);

// --- errors ---------------------------------------------------------------------------------------

/** Shows a failure with its typed code and, for BAD_REQUEST, zod's issue messages. */
function showError(error: unknown): void {
  let code = 'ERROR';
  let text = error instanceof Error ? error.message : String(error);
  if (isWirecallError(error)) {
    code = error.code;
    const issues = (error.data as { issues?: { path?: PropertyKey[]; message?: string }[] } | undefined)?.issues;
    if (Array.isArray(issues) && issues.length > 0) {
      text = issues
        .map((issue) => {
          const path = (issue.path ?? []).map(String).join('.');
          return path === '' ? String(issue.message) : `${path}: ${String(issue.message)}`;
        })
        .join('; ');
    }
  }
  element('error-code').textContent = code;
  element('error-message').textContent = text;
  errorBox.hidden = false;
}

function hideError(): void {
  errorBox.hidden = true;
}

// --- rooms ----------------------------------------------------------------------------------------

let room: Room = Room.safeParse(params.get('room')).data ?? 'a';
let leave: (() => void) | undefined;

function showGap(): void {
  element('gap-text').textContent =
    `Some messages in #${room} could not be recovered: the server lost them while you were away ` +
    '(it restarted, or they fell out of its history). Showing everything it still has.';
  gap.hidden = false;
}
element('gap-dismiss').addEventListener('click', () => (gap.hidden = true));

/** Merges the room's recent history into the list (on joining, and after a gap). */
async function loadHistory(forRoom: Room): Promise<void> {
  try {
    const recent = await client.call.history({ room: forRoom });
    if (forRoom === room) for (const message of recent) messages.add(message, 'history');
  } catch (error) {
    if (forRoom === room) showError(error);
  }
}

function join(next: Room): void {
  leave?.();
  room = next;
  messages.clear();
  gap.hidden = true;
  hideError();
  for (const button of roomButtons) button.setAttribute('aria-pressed', String(button.dataset.room === next));
  const url = new URL(location.href);
  url.searchParams.set('room', next);
  history.replaceState(null, '', url);
  document.title = `#${next} · wirecall chat`;

  const stopListening = client.on('message', { room: next }, (message) => messages.add(message, 'event'), {
    onGap: () => {
      showGap();
      void loadHistory(next);
    },
    onError: showError,
  });
  const roomPresence = client.presence('message', { room: next }, { onError: showError });
  whoIsHere.show(roomPresence, author());
  leave = () => {
    stopListening();
    roomPresence.close();
  };
  void loadHistory(next);
}

for (const button of roomButtons) {
  button.addEventListener('click', () => {
    const picked = Room.safeParse(button.dataset.room);
    if (picked.success && picked.data !== room) join(picked.data);
  });
}

// --- sending --------------------------------------------------------------------------------------

/** The bot's answer as it streams in; the complete answer then arrives in the room as a message. */
const botReply = element<HTMLElement>('bot-reply');

async function askBot(question: string): Promise<void> {
  botReply.textContent = '';
  botReply.dataset.state = 'streaming';
  botReply.hidden = false;
  try {
    const answer = client.call.ask({ room, author: author(), question });
    for await (const { token } of answer) botReply.textContent += token;
    await answer.result;
    // The complete answer is in the room now, as the bot's message.
    botReply.dataset.state = 'done';
    botReply.hidden = true;
  } catch (error) {
    botReply.dataset.state = 'failed';
    showError(error);
  }
}

// --- sharing a file -------------------------------------------------------------------------------

/** Slices the size of which keep each frame well under the server's payload limit. */
const SLICE_BYTES = 64 * 1024;
const fileInput = element<HTMLInputElement>('file');
const progress = element<HTMLProgressElement>('upload-progress');

/**
 * The file's bytes, slice by slice. The client pulls the next slice only when the server has room
 * for it (credits), so the progress bar shows what the server took, not what the page buffered.
 */
async function* slicesOf(file: File): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  for (let offset = 0; offset < file.size; offset += SLICE_BYTES) {
    yield new Uint8Array(await file.slice(offset, offset + SLICE_BYTES).arrayBuffer());
    const sent = Math.min(offset + SLICE_BYTES, file.size);
    progress.value = sent;
    progress.dataset.sent = String(sent);
  }
}

fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file === undefined) return;
  progress.max = Math.max(file.size, 1);
  progress.value = 0;
  progress.dataset.sent = '0';
  progress.hidden = false;
  client.call.share({ room, author: author(), name: file.name, size: file.size }, slicesOf(file)).then(
    () => {
      progress.dataset.state = 'done';
      fileInput.value = '';
      hideError();
    },
    (error: unknown) => {
      progress.dataset.state = 'failed';
      showError(error);
    },
  );
});

textInput.addEventListener('input', () => whoIsHere.typed());

element<HTMLFormElement>('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  whoIsHere.stoppedTyping();
  const text = textInput.value;
  if (text.startsWith('/bot ')) {
    textInput.value = '';
    void askBot(text.slice('/bot '.length));
    return;
  }
  // No check here: the client checks the input against the contract before sending (as the server
  // would) and rejects with BAD_REQUEST and zod's issues.
  client.call.send({ room, author: author(), text }).then(() => {
    if (textInput.value === text) textInput.value = '';
    hideError();
  }, showError);
});

join(room);
