import { registerSecret } from '../../core/secrets.js';

const SECRET_HEADER = /auth|key|token|secret|signature|cookie/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function registerHeaders(headers: unknown): void {
  if (!isRecord(headers)) return;
  for (const [name, value] of Object.entries(headers)) {
    if (SECRET_HEADER.test(name) && typeof value === 'string')
      registerSecret(value.replace(/^Bearer\s+/i, ''));
  }
}

/**
 * The credentials an AI SDK model sends (the `x-goog-api-key`, `x-api-key` or `Authorization`
 * header its provider was created with), kept out of every cloudhop message and error. The
 * providers of `@ai-sdk/*` keep their header function in `config.headers`; a model without one
 * (a wrapper, a custom model) is left as it is. A function that returns a promise (a token that
 * is fetched) is registered when it settles, never awaited.
 */
export function registerModelSecrets(model: object): void {
  let headers: unknown;
  try {
    const config = (model as { config?: unknown }).config;
    if (!isRecord(config)) return;
    headers = typeof config.headers === 'function' ? (config.headers as () => unknown)() : config.headers;
  } catch {
    // No key configured (the provider throws LoadAPIKeyError): the request will say so itself.
    return;
  }
  if (isRecord(headers) && typeof headers.then === 'function') {
    (headers as unknown as PromiseLike<unknown>).then(registerHeaders, () => {});
    return;
  }
  registerHeaders(headers);
}
