import { describeThrown } from '../core/errors.js';
import { redactSecrets } from '../core/secrets.js';

/** Log arguments as text that passed redaction: a vendor SDK may quote a response body that echoes credentials. */
function redacted(args: unknown[]): string[] {
  return args.map((arg) => {
    if (typeof arg === 'string') return redactSecrets(arg);
    if (arg instanceof Error) return describeThrown(arg);
    try {
      return redactSecrets(JSON.stringify(arg) ?? String(arg));
    } catch {
      return describeThrown(arg);
    }
  });
}

/** The `openai` client's log lines (e.g. an unparsable stream chunk it quotes) go to the console redacted. */
const redactingLogger = {
  error: (...args: unknown[]) => console.error(...redacted(args)),
  warn: (...args: unknown[]) => console.warn(...redacted(args)),
  info: (...args: unknown[]) => console.info(...redacted(args)),
  debug: (...args: unknown[]) => console.debug(...redacted(args)),
};

/**
 * Options every `openai` client a runtime builds gets: no retries of its own (cloudhop retries,
 * with one policy for every runtime) and a logger that redacts.
 */
export const OPENAI_CLIENT_DEFAULTS = { maxRetries: 0, logger: redactingLogger } as const;
