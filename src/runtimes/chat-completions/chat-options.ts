import * as z from 'zod/v4';
import { registerSecret } from '../../core/secrets.js';

export const requiredString = (what: string) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? `is required: ${what}` : `must be a string: ${what}`),
    })
    .trim()
    .min(1, `must not be empty: ${what}`);

/** An absolute http(s) URL, without a trailing slash, a query or credentials in it. */
export const httpUrl = (what: string) =>
  requiredString(what)
    .refine(
      (value) => {
        try {
          const url = new URL(value);
          return url.protocol === 'http:' || url.protocol === 'https:';
        } catch {
          return false;
        }
      },
      { error: `must be an absolute http(s) URL: ${what}`, abort: true },
    )
    .refine((value) => {
      const url = new URL(value);
      return url.username === '' && url.password === '' && url.search === '' && url.hash === '';
    }, `must not carry credentials, a query or a fragment: ${what}`)
    .transform((value) => value.replace(/\/+$/, ''));

export { endpointLabel } from '../../runtime/endpoint-label.js';

export const stringRecord = z.record(z.string(), z.string({ error: 'must be a string (a header value)' }), {
  error: 'must be an object of header names to string values',
});

const SECRET_HEADER = /auth|key|token|secret|signature|cookie/i;

/** Custom headers may carry a gateway's credentials: keep those values out of every message. */
export function registerHeaderSecrets(headers: Record<string, string> | undefined): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (SECRET_HEADER.test(name)) registerSecret(value.replace(/^Bearer\s+/i, ''));
  }
}

/** Wraps a token provider so every token it hands out is redacted from messages. */
export function redactingTokenProvider(provider: () => Promise<string>): () => Promise<string> {
  return async () => {
    const token = await provider();
    registerSecret(token);
    return token;
  };
}
