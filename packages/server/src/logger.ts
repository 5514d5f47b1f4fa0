/**
 * The logging interface wirecall writes to: the subset of pino's API it uses, so a pino (or
 * compatible) logger can be passed as is. Objects first, message second, as pino expects.
 */
export interface Logger {
  error(details: object, message?: string): void;
  warn(details: object, message?: string): void;
  info(details: object, message?: string): void;
  debug(details: object, message?: string): void;
}

/** Default: warnings and errors to the console, so a crashed handler is never invisible. */
export const consoleLogger: Logger = {
  error: (details, message) => console.error(`[wirecall] ${message ?? ''}`, details),
  warn: (details, message) => console.warn(`[wirecall] ${message ?? ''}`, details),
  info: () => {},
  debug: () => {},
};

/** Discards everything; for tests and for applications that report through hooks instead. */
export const silentLogger: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

/**
 * Wraps a logger so that logging can never throw: the values wirecall logs include whatever a
 * handler threw (a Proxy, an object whose getters throw), and a logger that trips over one while
 * formatting it must not turn a handled fault into a crash.
 */
export function guardLogger(logger: Logger): Logger {
  const guard =
    (level: keyof Logger) =>
    (details: object, message?: string): void => {
      try {
        logger[level](details, message);
      } catch {
        try {
          logger[level]({ unloggable: true }, message);
        } catch {
          // The logger itself is broken; there is nowhere left to report to.
        }
      }
    };
  return { error: guard('error'), warn: guard('warn'), info: guard('info'), debug: guard('debug') };
}
