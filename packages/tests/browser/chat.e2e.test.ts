import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import { createClient, type WirecallClient } from '@wirecall/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, MessageText, type Api, type Message } from '../../../examples/chat/src/contract.js';
import { killAllChatProcesses, startChatProcess, type ChatProcess } from './helpers/chat-process.js';
import { browserSuite, checkChromium, launchChromium } from './helpers/chromium.js';

/**
 * The chat example (examples/chat) in a real Chromium: two pages chat in one room over real
 * WebSockets to the example's server in a child process; the server is killed (SIGKILL) and
 * restarted on the same port; messages sent while the pages were away arrive once each, replayed by
 * the library's resume, and the pages report the gap the lost in-memory history leaves; a message
 * that fails the contract shows its typed error. Without Chromium the suite is skipped locally and
 * fails in CI.
 */
const chromiumCheck = checkChromium();

const SCREENSHOT = fileURLToPath(new URL('../artifacts/chat-e2e.png', import.meta.url));
/** Short backoff for the pages (read from the URL by the page), so reconnects take ~a second. */
const BACKOFF = 'minDelayMs=100&maxDelayMs=1000';
const WAIT = { timeout: 15_000 };
const silent = { warn: () => {}, error: () => {} };

/** Waits until the page lists exactly these names as having the room open. */
async function waitForOnline(page: Page, names: string[]): Promise<void> {
  await expect
    .poll(async () => (await page.getByTestId('online').locator('li').allTextContents()).sort(), WAIT)
    .toEqual([...names].sort());
}

/** What a page shows for one message. */
interface Shown {
  id: string;
  author: string;
  text: string;
  datetime: string;
  /** `Date` when the page got `at` as a Date. */
  type: string;
  /** `event` (the live or replayed stream) or `history` (fetched). */
  source: string;
}

describe.skipIf(!chromiumCheck.available)(browserSuite('the chat example in Chromium', chromiumCheck), () => {
  let server: ChatProcess;
  let browser: Browser | undefined;
  let node: WirecallClient<Api> | undefined;
  const contexts: BrowserContext[] = [];
  let alice: Page;
  let bob: Page;
  /** In another room, with a fixed 2.5 s backoff: to watch the badge count down. */
  let carol: Page;
  /** With `maxAttempts=0`: gives up at the first drop. */
  let dave: Page;

  async function openChat(name: string, query = `room=a&${BACKOFF}`): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 820, height: 760 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${server.url}/?name=${name}&${query}`);
    await waitForBadge(page, /^connected$/);
    return page;
  }

  beforeAll(async () => {
    // The first start may build the front-end with Vite.
    server = await startChatProcess({ port: 0, readyTimeoutMs: 45_000 });
    browser = await launchChromium();
    [alice, bob, carol, dave] = await Promise.all([
      openChat('alice'),
      openChat('bob'),
      openChat('carol', 'room=c&minDelayMs=2500&maxDelayMs=2500&jitter=0'),
      openChat('dave', 'room=c&maxAttempts=0'),
    ]);
  }, 60_000);

  afterAll(async () => {
    try {
      if (alice !== undefined && !alice.isClosed()) {
        await mkdir(fileURLToPath(new URL('../artifacts/', import.meta.url)), { recursive: true });
        await alice.screenshot({ path: SCREENSHOT, fullPage: true });
      }
    } finally {
      await node?.close();
      await browser?.close();
      await killAllChatProcesses();
    }
  }, 30_000);

  it("two pages in one room see each other's messages, once each, with Dates", async () => {
    await say(alice, 'hello from alice');
    await waitForText([alice, bob], 'hello from alice');
    await say(bob, 'hi alice, bob here');
    await waitForText([alice, bob], 'hi alice, bob here');

    const seenByAlice = await shown(alice);
    const seenByBob = await shown(bob);
    expect(seenByBob).toEqual(seenByAlice);
    expect(seenByAlice.map(({ author, text }) => `${author}: ${text}`)).toEqual([
      'alice: hello from alice',
      'bob: hi alice, bob here',
    ]);
    expect(new Set(seenByAlice.map(({ id }) => id)).size).toBe(2);
    for (const message of seenByAlice) {
      expect(message.type).toBe('Date');
      expect(message.source).toBe('event');
      expect(Math.abs(Date.parse(message.datetime) - Date.now())).toBeLessThan(60_000);
    }
  });

  it('shows who has the room open and who is typing, from the room’s presence', async () => {
    for (const page of [alice, bob]) await waitForOnline(page, ['alice', 'bob']);
    await bob.getByTestId('message-input').pressSequentially('typing', { delay: 20 });
    await expect.poll(() => alice.getByTestId('typing').textContent(), WAIT).toBe('bob is typing…');
    expect(await bob.getByTestId('typing').textContent()).toBe(''); // not about oneself
    await bob.getByTestId('message-input').fill('');
    // The notice clears itself after a pause: it never outlives the typist.
    await expect.poll(() => alice.getByTestId('typing').textContent(), WAIT).toBe('');
    // carol and dave are in another room: not listed here.
    expect(await alice.getByTestId('online').getAttribute('data-count')).toBe('2');
  });

  it(
    'shows reconnecting while the server is down, then delivers what was sent meanwhile once and reports the gap',
    { timeout: 45_000 },
    async () => {
      const before = await shown(alice);
      expect(before).toHaveLength(2);
      const port = server.port;

      // Keep the pages away until the Node client has sent: Chromium's offline mode fails their
      // WebSocket attempts (it leaves open sockets alone), and going back online fires the `online`
      // event on which the client retries at once instead of waiting out its backoff.
      await Promise.all(contexts.map((context) => context.setOffline(true)));
      await server.kill('SIGKILL');
      for (const page of [alice, bob]) {
        await waitForBadge(page, /^reconnecting (in \d+s|now)$/);
        const badge = page.getByTestId('connection-state');
        expect(await badge.getAttribute('data-state')).toBe('reconnecting');
        expect(Number(await badge.getAttribute('data-attempt'))).toBeGreaterThanOrEqual(1);
      }
      // The countdown is live, from onStateChange's delayMs (2.5 s without jitter for carol).
      await waitForBadge(carol, /^reconnecting in 3s$/);
      expect(await carol.getByTestId('connection-state').getAttribute('data-delay-ms')).toBe('2500');
      await waitForBadge(carol, /^reconnecting in 2s$/);
      await waitForBadge(carol, /^reconnecting in 1s$/);
      // A client that has given up says so.
      await waitForBadge(dave, /^offline$/);
      expect(await dave.getByTestId('connection-state').getAttribute('data-state')).toBe('closed');

      server = await startChatProcess({ port });
      node = createClient(api, { url: server.wsUrl, logger: silent, streams, presence });
      const sentMeanwhile: Message[] = [];
      for (let i = 1; i <= 3; i++) {
        sentMeanwhile.push(await node.call.send({ room: 'a', author: 'node', text: `sent while away #${i}` }));
      }
      const otherRoom = await node.call.send({ room: 'b', author: 'node', text: 'for room b only' });
      // Still away: what they get next, they get by resuming.
      for (const page of [alice, bob]) {
        expect(await page.getByTestId('connection-state').getAttribute('data-state')).toBe('reconnecting');
      }

      await Promise.all(contexts.map((context) => context.setOffline(false)));
      await waitForBadge(carol, /^connected$/);
      for (const page of [alice, bob]) {
        await waitForBadge(page, /^connected$/);
        await page.getByTestId('gap').waitFor({ state: 'visible', ...WAIT });
        await waitForIds(
          page,
          sentMeanwhile.map(({ id }) => id),
        );
      }
      // A live message after the replay: the stream is in order, so once it is shown, every copy the
      // replay could have delivered has arrived too, and the counts below are final.
      await say(bob, 'back online');
      await waitForText([alice, bob], 'back online');

      for (const page of [alice, bob]) {
        const now = await shown(page);
        const ids = now.map(({ id }) => id);
        expect(new Set(ids).size, `duplicates in ${ids.join(', ')}`).toBe(ids.length);
        expect(await page.getByTestId('messages').getAttribute('data-duplicates')).toBeNull();
        expect(now.map(({ author, text }) => `${author}: ${text}`)).toEqual([
          'alice: hello from alice',
          'bob: hi alice, bob here',
          'node: sent while away #1',
          'node: sent while away #2',
          'node: sent while away #3',
          'bob: back online',
        ]);
        expect(ids.slice(0, 2)).toEqual(before.map(({ id }) => id));
        for (const message of sentMeanwhile) {
          expect(await page.locator(`[data-testid="message"][data-id="${message.id}"]`).count()).toBe(1);
          const item = now.find(({ id }) => id === message.id)!;
          // Replayed by the library on resubscribe (the gap's refetch came second and was merged away).
          expect(item.source).toBe('event');
          expect(item.type).toBe('Date');
          expect(item.datetime).toBe(message.at.toISOString());
        }
        expect(await page.locator(`[data-testid="message"][data-id="${otherRoom.id}"]`).count()).toBe(0);
        await expect.poll(() => page.getByTestId('gap').textContent()).toContain('could not be recovered');
        // The restarted server lost its presence; each page joined again on reconnecting.
        await waitForOnline(page, ['alice', 'bob']);
      }
    },
  );

  it('shows the typed error when a message fails the contract, and clears it on the next send', async () => {
    const count = await alice.getByTestId('message').count();
    const issue = (text: string): string => `text: ${MessageText.safeParse(text).error!.issues[0]!.message}`;

    await say(alice, '');
    await alice.getByTestId('error').waitFor({ state: 'visible', ...WAIT });
    expect(await alice.getByTestId('error-code').textContent()).toBe('BAD_REQUEST');
    expect(await alice.getByTestId('error-message').textContent()).toBe(issue(''));

    const tooLong = 'x'.repeat(281);
    await say(alice, tooLong);
    await alice.waitForFunction(
      (expected) => document.querySelector('[data-testid="error-message"]')?.textContent === expected,
      issue(tooLong),
      WAIT,
    );
    expect(await alice.getByTestId('error-code').textContent()).toBe('BAD_REQUEST');
    // Kept in the input, to fix and resend.
    expect(await alice.getByTestId('message-input').inputValue()).toBe(tooLong);

    await say(alice, 'x'.repeat(280));
    await waitForText([alice, bob], 'x'.repeat(280));
    await alice.getByTestId('error').waitFor({ state: 'hidden', ...WAIT });
    expect(await alice.getByTestId('message').count()).toBe(count + 1);
  });

  it('streams the bot’s answer into the page token by token, then posts it to the room', async () => {
    // Every text the reply area shows, recorded in the page as it changes.
    await alice.evaluate(() => {
      const reply = document.querySelector('[data-testid="bot-reply"]')!;
      const seen: string[] = [];
      (window as unknown as { botTexts: string[] }).botTexts = seen;
      new MutationObserver(() => seen.push(reply.textContent ?? '')).observe(reply, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await say(alice, '/bot what is a stream?');
    await alice.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-testid="bot-reply"]')?.dataset.state === 'done',
      undefined,
      WAIT,
    );
    const answer = (await alice.getByTestId('bot-reply').textContent()) ?? '';
    expect(answer).toMatch(/^You asked: "what is a stream\?"\. This answer streams .* complete\.$/);
    const texts = await alice.evaluate(() => (window as unknown as { botTexts: string[] }).botTexts);
    // Rendered as it came: many growing prefixes of the answer, not one final paint.
    const prefixes = new Set(texts.filter((text) => text !== '' && answer.startsWith(text)));
    expect(prefixes.size).toBeGreaterThanOrEqual(10);
    await waitForText([alice, bob], answer);
    const posted = (await shown(bob)).find((message) => message.text === answer);
    expect(posted?.author).toBe('bot');
  });

  it('uploads a file in slices with a progress bar that follows what the server took', async () => {
    const size = 3 * 1024 * 1024 + 123;
    await alice.evaluate(() => {
      const bar = document.querySelector('[data-testid="upload-progress"]')!;
      const steps: string[] = [];
      (window as unknown as { uploadSteps: string[] }).uploadSteps = steps;
      new MutationObserver(() => steps.push((bar as HTMLElement).dataset.sent ?? '')).observe(bar, {
        attributes: true,
        attributeFilter: ['data-sent'],
      });
    });
    await alice.getByTestId('file').setInputFiles({
      name: 'photo.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(size, 7),
    });
    await alice.waitForFunction(
      () => document.querySelector<HTMLElement>('[data-testid="upload-progress"]')?.dataset.state === 'done',
      undefined,
      WAIT,
    );
    const steps = (await alice.evaluate(() => (window as unknown as { uploadSteps: string[] }).uploadSteps)).map(
      Number,
    );
    // 49 slices of 64 KiB: the bar moved through them in order, up to the whole file.
    expect(steps.length).toBeGreaterThanOrEqual(40);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(size);
    await waitForText([alice, bob], `shared photo.bin (${size} bytes)`);
  });
});

/** Types `text` into the page's input and presses Enter. */
async function say(page: Page, text: string): Promise<void> {
  const input = page.getByTestId('message-input');
  await input.fill(text);
  await input.press('Enter');
}

/** Waits until the connection badge's text matches `pattern`. */
async function waitForBadge(page: Page, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    ({ source, flags }) =>
      new RegExp(source, flags).test(document.querySelector('[data-testid="connection-state"]')?.textContent ?? ''),
    { source: pattern.source, flags: pattern.flags },
    WAIT,
  );
}

/** Waits until every page shows a message with exactly this text. */
async function waitForText(pages: Page[], text: string): Promise<void> {
  for (const page of pages) {
    await page.waitForFunction(
      (expected) =>
        Array.from(document.querySelectorAll('[data-testid="message"] .text')).some(
          (node) => node.textContent === expected,
        ),
      text,
      WAIT,
    );
  }
}

/** Waits until the page shows a message for each id. */
async function waitForIds(page: Page, ids: string[]): Promise<void> {
  await page.waitForFunction(
    (wanted) => wanted.every((id) => document.querySelector(`[data-testid="message"][data-id="${id}"]`) !== null),
    ids,
    WAIT,
  );
}

/** The messages the page shows, top to bottom. */
function shown(page: Page): Promise<Shown[]> {
  return page.$$eval('[data-testid="message"]', (items) =>
    items.map((item) => {
      const element = item as HTMLElement;
      const time = element.querySelector('time');
      return {
        id: element.dataset.id ?? '',
        author: element.querySelector('.author')?.textContent ?? '',
        text: element.querySelector('.text')?.textContent ?? '',
        datetime: time?.dateTime ?? '',
        type: time?.dataset.type ?? '',
        source: element.dataset.source ?? '',
      };
    }),
  );
}
