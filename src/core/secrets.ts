/**
 * Credential values (API keys, tokens, AWS secrets, store passwords) that runtimes and stores hand
 * over when they are created or fetch a token. Every error message, event and debug line passes
 * through `redactSecrets`, so a vendor message that echoes a credential cannot leak it.
 *
 * The list is process-wide: it lives on `globalThis` under a `Symbol.for` key, so the ESM and CJS
 * builds of cloudhop (or two installed copies) register into and redact from the same list.
 */
const MIN_SECRET_LENGTH = 6;

/**
 * Redaction walks every registered value on every error, and a token provider may hand out a new
 * token per request, so the list is bounded. The first values registered (the credentials an
 * application configures when it starts) keep their place for the life of the process; later ones
 * share a second part where the least recently registered value leaves first. Tokens the shapes
 * below catch take no place at all.
 */
const MAX_FIRST_SECRETS = 32;
const MAX_RECENT_SECRETS = 32;

interface SecretRegistry {
  first: Set<string>;
  /** Insertion order is recency: a value registered again moves to the end. */
  recent: Set<string>;
}

const REGISTRY_KEY = Symbol.for('cloudhop.secrets.v1');
const globalSlots = globalThis as Record<symbol, SecretRegistry | undefined>;
globalSlots[REGISTRY_KEY] ??= { first: new Set(), recent: new Set() };
const registry = globalSlots[REGISTRY_KEY];

const REDACTED = '[redacted]';

/** A base64 character, also percent-encoded (`+ / =` become `%2B %2F %3D` in a URL or a form). */
const B64 = '(?:[A-Za-z0-9+/=_-]|%2[BbFf]|%3[Dd])';

/**
 * Values that are secret whatever their context; the whole match is replaced. One alternation,
 * so a message is scanned once: redaction runs on every error.
 */
const SECRET_SHAPES = new RegExp(
  [
    // JWTs (Entra ID and other OAuth access tokens).
    'eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}(?:\\.[A-Za-z0-9_-]*){0,3}',
    // OpenAI keys (sk-…, sk-proj-…); not the tail of a word such as "task-…".
    '(?<![A-Za-z])sk-[A-Za-z0-9_-]{20,}',
    // Bedrock API keys: long-term (ABSK…) and short-term (bedrock-api-key-…).
    `(?:ABSK|bedrock-api-key-)${B64}{20,}`,
    // AWS session tokens (IQoJb3JpZ2lu…, FwoGZXIvYXdz…).
    `[A-Za-z0-9]{2}o[GJ](?:b3JpZ2lu|ZXIvYXdz)${B64}{40,}`,
    // AWS access key ids.
    '(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])',
  ].join('|'),
  'g',
);

/** Secrets found by what precedes them: each alternative is (prefix, kept)(secret, replaced). */
const SECRET_CONTEXTS = new RegExp(
  [
    '(Bearer(?:\\s+|%20|\\+))[A-Za-z0-9._~+/=%-]{6,}',
    '((?:api[-_]key|x-amz-security-token|aws_secret_access_key|aws_session_token|password)["\']?\\s*[:=]\\s*["\']?)[^\\s"\',;&}]{6,}',
    '(Signature=)[0-9a-f]{16,}',
    '(Credential=)[A-Z0-9]{16,}',
    // The password of a URL's user info: redis://user:password@host (brackets, which user info
    // cannot hold, keep a pattern such as redis://[user:password@]host readable).
    '(\\/\\/[^\\s:@/?#[\\]]*:)[^\\s@/?#[\\]]+(?=@)',
  ].join('|'),
  'gi',
);

function keepPrefix(_match: string, ...prefixes: unknown[]): string {
  return `${prefixes.find((prefix) => typeof prefix === 'string')}${REDACTED}`;
}

function redactShapes(text: string): string {
  return text.replace(SECRET_SHAPES, REDACTED).replace(SECRET_CONTEXTS, keepPrefix);
}

function remember(value: string): void {
  if (registry.first.has(value)) return;
  if (registry.recent.delete(value)) {
    registry.recent.add(value);
    return;
  }
  // A value the shapes catch whole needs no place: a token provider minting a JWT per request
  // does not push an API key out of the list.
  if (redactShapes(value) === REDACTED) return;
  if (registry.first.size < MAX_FIRST_SECRETS) {
    registry.first.add(value);
    return;
  }
  registry.recent.add(value);
  if (registry.recent.size > MAX_RECENT_SECRETS) {
    registry.recent.delete(registry.recent.values().next().value as string);
  }
}

export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  remember(value);
  // An AWS secret or session token holds `/ + =`, which a URL or a signed query string encodes.
  let encoded = value;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // A lone surrogate cannot be percent-encoded, so it never reaches a URL that way either.
  }
  if (encoded !== value) remember(encoded);
}

export function redactSecrets(text: string): string {
  const found: string[] = [];
  for (const secret of registry.first) if (text.includes(secret)) found.push(secret);
  for (const secret of registry.recent) if (text.includes(secret)) found.push(secret);
  let out = text;
  if (found.length > 0) {
    // Longest first: a secret inside a longer one (a password inside a connection string) must
    // not cut the longer one apart before it is replaced whole.
    found.sort((a, b) => b.length - a.length);
    for (const secret of found) out = out.replaceAll(secret, REDACTED);
  }
  return redactShapes(out);
}
