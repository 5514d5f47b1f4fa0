import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createClient, type WirecallClient } from '@wirecall/client';
import { presence } from '@wirecall/client/presence';
import { streams } from '@wirecall/client/streams';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, MessageText, type Api, type Message } from '../../../examples/react-chat/src/contract.js';
import { browserSuite, checkChromium, launchChromium } from '../browser/helpers/chromium.js';
import { killAllChatProcesses, startChatProcess, type ChatProcess } from '../browser/helpers/chat-process.js';

/**
 * The React chat example (examples/react-chat: @wirecall/react and TanStack Query) in a real
 * Chromium, against the chat server in a child process: calls as queries and mutations, messages
 * that reach the other page through the query cache (one `history` fetch per page, then events),
 * presence, a typed error, the bot's streamed reply, and a server killed and restarted on the same
 * port, which the pages survive: reconnecting banner, the gap refetching the history, messages sent
 * meanwhile shown once. Without Chromium the suite is skipped locally and fails in CI.
 */
const chromiumCheck = checkChromium();

const SCREENSHOT = fileURLToPath(new URL('../artifacts/react-chat-e2e.png', import.meta.url));
const BACKOFF = 'minDelayMs=100&maxDelayMs=1000';
const WAIT = { timeout: 15_000 };
const silent = { warn: () => {}, error: () => {} };

describe.skipIf(!chromiumCheck.available)(browserSuite('the React chat example in Chromium', chromiumCheck), () => {
  let server: ChatProcess;
  let browser: Browser | undefined;
  let node: WirecallClient<Api> | undefined;
  const contexts: BrowserContext[] = [];
  /** The `call` frames each page sent, by page. */
  const calls = new Map<Page, string[]>();
  let alice: Page;
  let bob: Page;

  async function openChat(name: string): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 820, height: 760 } });
    contexts.push(context);
    const page = await context.newPage();
    const sent: string[] = [];
    calls.set(page, sent);
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        const text = String(payload);
        if (text.includes('"t":"call"')) sent.push(text);
      }),
    );
    await page.goto(`${server.url}/?name=${name}&room=a&${BACKOFF}`);
    await waitForBadge(page, /^connected$/);
    return page;
  }

  beforeAll(async () => {
    server = await startChatProcess({ port: 0, readyTimeoutMs: 45_000, example: 'react-chat' });
    browser = await launchChromium();
    [alice, bob] = await Promise.all([openChat('alice'), openChat('bob')]);
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

  /** The `history` calls a page made (queries), and its `send` calls (mutations). */
  const callsOf = (page: Page, procedure: string): number =>
    calls.get(page)!.filter((frame) => frame.includes(`"p":"${procedure}"`)).length;

  it("two pages see each other's messages: a mutation, then the event writes the other page's cache", async () => {
    await expect.poll(() => alice.getByTestId('messages').getAttribute('data-status'), WAIT).toBe('success');
    await say(alice, 'hello from alice');
    await waitForText([alice, bob], 'hello from alice');
    await say(bob, 'hi alice, bob here');
    await waitForText([alice, bob], 'hi alice, bob here');
    for (const page of [alice, bob]) {
      expect(await texts(page)).toEqual(['alice: hello from alice', 'bob: hi alice, bob here']);
      // The history was fetched once, when the room opened; every message since came as an event.
      expect(callsOf(page, 'history')).toBe(1);
      expect(await page.locator('[data-testid="message"] time').first().getAttribute('data-type')).toBe('Date');
    }
    expect(callsOf(alice, 'send')).toBe(1);
  });

  it("shows who has the room open and who is typing, from the room's presence", async () => {
    for (const page of [alice, bob]) await waitForOnline(page, ['alice', 'bob']);
    await bob.getByTestId('message-input').pressSequentially('typing', { delay: 20 });
    await expect.poll(() => alice.getByTestId('typing').textContent(), WAIT).toBe('bob is typing…');
    expect(await bob.getByTestId('typing').textContent()).toBe('');
    await expect.poll(() => alice.getByTestId('typing').textContent(), WAIT).toBe('');
    await bob.getByTestId('message-input').fill('');
  });

  it('shows the typed error of a message that fails the contract, and clears it on the next send', async () => {
    const issue = (text: string): string => `text: ${MessageText.safeParse(text).error!.issues[0]!.message}`;
    await say(alice, '');
    await alice.getByTestId('error').waitFor({ state: 'visible', ...WAIT });
    expect(await alice.getByTestId('error-code').textContent()).toBe('BAD_REQUEST');
    expect(await alice.getByTestId('error-message').textContent()).toBe(issue(''));
    await say(alice, 'fixed');
    await waitForText([alice, bob], 'fixed');
    await alice.getByTestId('error').waitFor({ state: 'hidden', ...WAIT });
  });

  it("streams the bot's answer into the page token by token, then posts it to the room", async () => {
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
      () => document.querySelector('[data-testid="bot-reply"]')?.getAttribute('data-state') === 'success',
      undefined,
      WAIT,
    );
    const seen = await alice.evaluate(() => (window as unknown as { botTexts: string[] }).botTexts);
    const growing = seen.filter((text) => text !== '');
    expect(growing.length).toBeGreaterThan(5);
    for (let i = 1; i < growing.length; i++) expect(growing[i]!.startsWith(growing[i - 1]!)).toBe(true);
    expect(growing.at(-1)).toContain('You asked: "what is a stream?"');
    // The complete answer is the bot's message in the room, for both pages.
    await waitForText([alice, bob], 'You asked: "what is a stream?"');
    expect(await alice.getByTestId('bot-reply').isHidden()).toBe(true);
    expect(callsOf(alice, 'ask')).toBe(1);
  });

  it(
    'survives a server restart: reconnecting, then the gap refetches and messages sent meanwhile show once',
    { timeout: 45_000 },
    async () => {
      const before = await texts(alice);
      const historyBefore = new Map([alice, bob].map((page) => [page, callsOf(page, 'history')]));
      const port = server.port;
      await Promise.all(contexts.map((context) => context.setOffline(true)));
      await server.kill('SIGKILL');
      for (const page of [alice, bob]) {
        await waitForBadge(page, /^reconnecting (in \d+s|now)$/);
        expect(await page.getByTestId('connection-state').getAttribute('data-state')).toBe('reconnecting');
      }

      server = await startChatProcess({ port, example: 'react-chat' });
      node = createClient(api, { url: server.wsUrl, logger: silent, streams, presence });
      const sentMeanwhile: Message[] = [];
      for (let i = 1; i <= 3; i++) {
        sentMeanwhile.push(await node.call.send({ room: 'a', author: 'node', text: `sent while away #${i}` }));
      }
      await node.call.send({ room: 'b', author: 'node', text: 'for room b only' });

      await Promise.all(contexts.map((context) => context.setOffline(false)));
      for (const page of [alice, bob]) {
        await waitForBadge(page, /^connected$/);
        await page.getByTestId('gap').waitFor({ state: 'visible', ...WAIT });
        for (const message of sentMeanwhile) {
          await page.locator(`[data-testid="message"][data-id="${message.id}"]`).waitFor(WAIT);
        }
      }
      await say(bob, 'back online');
      await waitForText([alice, bob], 'back online');
      for (const page of [alice, bob]) {
        const ids = await page.getByTestId('message').evaluateAll((items) => items.map((item) => item.dataset.id));
        expect(new Set(ids).size, `duplicates in ${ids.join(', ')}`).toBe(ids.length);
        // The restarted server lost its messages; the gap refetched what the new one has: the
        // messages sent to it, then the live one.
        expect(await texts(page)).toEqual([
          'node: sent while away #1',
          'node: sent while away #2',
          'node: sent while away #3',
          'bob: back online',
        ]);
        expect(before.length).toBeGreaterThan(0);
        // Refetched after the gap (and when the browser came back online, which TanStack follows).
        expect(callsOf(page, 'history')).toBeGreaterThan(historyBefore.get(page)!);
        await waitForOnline(page, ['alice', 'bob']);
      }
    },
  );
});

async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('send').click();
}

async function texts(page: Page): Promise<string[]> {
  return page
    .getByTestId('message')
    .evaluateAll((items) =>
      items.map((item) => `${item.querySelector('.author')?.textContent}: ${item.querySelector('.text')?.textContent}`),
    );
}

async function waitForText(pages: Page[], text: string): Promise<void> {
  for (const page of pages) {
    await page.locator('[data-testid="message"] .text', { hasText: text }).first().waitFor({ timeout: 15_000 });
  }
}

async function waitForBadge(page: Page, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    ({ source, flags }) =>
      new RegExp(source, flags).test(document.querySelector('[data-testid="connection-state"]')?.textContent ?? ''),
    { source: pattern.source, flags: pattern.flags },
    { timeout: 15_000 },
  );
}

async function waitForOnline(page: Page, names: string[]): Promise<void> {
  await expect
    .poll(async () => (await page.getByTestId('online').locator('li').allTextContents()).sort(), { timeout: 15_000 })
    .toEqual([...names].sort());
}
