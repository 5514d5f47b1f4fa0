import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core; no browser is ever downloaded. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
const INSTALL = 'apt-get install -y chromium';

/** Headless, no sandbox (containers run as root), and nothing that phones home or updates itself. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface ChromiumCheck {
  available: boolean;
  /** Why the suite cannot run and how to fix it; empty when Chromium is there. */
  reason: string;
}

/** `CI` is set to something other than `false`/`0`. */
function inCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/**
 * The guard of every browser suite, run when the file is collected:
 * - Chromium is there: `{ available: true }`.
 * - missing in CI: throws, so the run fails saying how to install it (a skipped suite in CI would
 *   look green while proving nothing).
 * - missing locally: `{ available: false, reason }`; pass it to {@link browserSuite}.
 */
export function checkChromium(env: NodeJS.ProcessEnv = process.env, path: string = CHROMIUM_PATH): ChromiumCheck {
  try {
    accessSync(path, constants.X_OK);
    return { available: true, reason: '' };
  } catch {
    const reason = `Chromium is not installed at ${path}; install it with \`${INSTALL}\` to run the browser tests`;
    if (inCi(env)) throw new Error(`${reason}. CI is set, so a missing browser fails the run instead of skipping it.`);
    return { available: false, reason };
  }
}

/** The suite's title; when it is skipped, the reason is in the title and printed on stderr. */
export function browserSuite(title: string, check: ChromiumCheck): string {
  if (check.available) return title;
  process.stderr.write(`[wirecall browser tests] skipping "${title}": ${check.reason}.\n`);
  return `${title} [skipped: ${check.reason}]`;
}

/** Launches Chromium with a fresh temporary profile (Playwright's default), removed on close. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}
