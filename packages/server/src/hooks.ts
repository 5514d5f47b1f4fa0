import type { Logger } from './logger.js';

/**
 * Runs an application hook so that whatever it throws is logged and goes no further: a buggy
 * metrics hook must not take a connection, or the process, down with it.
 */
export function safeHook(host: { logger: Logger }, name: string, run: () => void): void {
  try {
    run();
  } catch (error) {
    host.logger.error({ err: error, hook: name }, 'a server hook threw');
  }
}
