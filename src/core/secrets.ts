/**
 * Process-wide list of credential values (API keys, tokens, AWS secrets) that runtimes hand over
 * when they are created. Every error message, event and debug line passes through
 * `redactSecrets`, so a vendor message that echoes a credential cannot leak it.
 */
const secrets = new Set<string>();

const MIN_SECRET_LENGTH = 6;

export function registerSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

/** Shapes that are secret whatever their value: bearer tokens, api-key headers, SigV4 signatures. */
const SECRET_PATTERNS: RegExp[] = [
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi,
  /(api-key["']?\s*[:=]\s*["']?)[^\s"',}]{6,}/gi,
  /(Signature=)[0-9a-f]{16,}/gi,
  /(Credential=)[A-Z0-9]{16,}/g,
  /(aws_secret_access_key["']?\s*[:=]\s*["']?)[^\s"',}]+/gi,
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '$1[redacted]');
  return out;
}
