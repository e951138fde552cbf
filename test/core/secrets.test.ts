import { describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import { redactSecrets, registerSecret } from '../../src/core/secrets.js';

/** The process-wide registry every copy of cloudhop shares (read here only to count its values). */
function registeredCount(): number {
  const registry = (globalThis as Record<symbol, Record<string, Set<string>>>)[
    Symbol.for('cloudhop.secrets.v1')
  ];
  return Object.values(registry).reduce((count, values) => count + values.size, 0);
}

function jwt(payload: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part({ aud: 'https://cognitiveservices.azure.com', payload })}.c2lnbmF0dXJl`;
}

describe('the secret registry with a token provider that hands out a new token per request', () => {
  it('stays small, and still redacts the newest token, earlier JWTs and a key registered before', () => {
    // The first registration of this file's process, as an application's key at start-up is.
    const apiKey = '3f9c2a7b1e5d4c8a9b0e6d2f1a7c3e5b';
    registerSecret(apiKey);
    const firstJwt = jwt('first');
    registerSecret(firstJwt);
    // Entra ID tokens: one new JWT per request.
    for (let request = 0; request < 5_000; request += 1) registerSecret(jwt(`request-${request}`));
    // Opaque tokens from a custom provider.
    const firstOpaque = 'opaque-token-0-a1b2c3d4e5f6';
    registerSecret(firstOpaque);
    for (let request = 1; request < 5_000; request += 1)
      registerSecret(`opaque-token-${request}-a1b2c3d4e5f6`);
    const newest = 'opaque-token-newest-f6e5d4c3b2a1';
    registerSecret(newest);

    expect(registeredCount()).toBeLessThanOrEqual(64);
    const message = new CloudhopError(
      'auth_failed',
      `Tokens ${newest} and ${firstJwt} were rejected; the key ${apiKey} too.`,
    ).message;
    expect(message).toBe('Tokens [redacted] and [redacted] were rejected; the key [redacted] too.');
  });

  it('a key registered again (each request resolves it) stays redacted while other values come and go', () => {
    const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYLIVEKEY01';
    for (let request = 0; request < 1_000; request += 1) {
      registerSecret(secretAccessKey);
      registerSecret(`rotating-value-${request}-9z8y7x`);
    }
    expect(redactSecrets(`secret ${secretAccessKey}`)).toBe('secret [redacted]');
  });
});

describe('secrets by shape, registered or not', () => {
  const cases: Array<[string, string, string]> = [
    [
      'an Entra ID JWT',
      `Bearer token ${jwt('unregistered')} has expired`,
      'Bearer token [redacted] has expired',
    ],
    [
      'an OpenAI project key',
      'Incorrect API key provided: sk-proj-UNREGISTEREDabcdefghij0123456789.',
      'Incorrect API key provided: [redacted].',
    ],
    [
      'a long-term Bedrock API key',
      'key ABSKQmVkcm9ja0FQSUtleS1VTlJFR0lTVEVSRUQ= denied',
      'key [redacted] denied',
    ],
    [
      'a short-term Bedrock API key',
      'key bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249 denied',
      'key [redacted] denied',
    ],
    [
      'an AWS session token',
      'token IQoJb3JpZ2luX2VjEUNREGISTEREDsessionTOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ is invalid',
      'token [redacted] is invalid',
    ],
    [
      'an AWS access key id',
      'The security token included in the request is invalid: ASIAIOSFODNN7EXAMPLE.',
      'The security token included in the request is invalid: [redacted].',
    ],
    [
      'the password of a URL',
      "connect ECONNREFUSED for 'redis://app:unregistered-pw@cache.internal:6379/0'",
      "connect ECONNREFUSED for 'redis://app:[redacted]@cache.internal:6379/0'",
    ],
    [
      'a password in a URL without a user name',
      'postgres://:pw-only-secret@db.internal/app failed',
      'postgres://:[redacted]@db.internal/app failed',
    ],
  ];
  for (const [label, text, redacted] of cases) {
    it(label, () => {
      expect(redactSecrets(text)).toBe(redacted);
    });
  }

  it('leaves ordinary text alone, cloudhop’s own option hints included', () => {
    const texts = [
      'The task-scheduler-service-account ran out of quota at https://example.com/v1/models?x=1; retry later.',
      'apiKey: azureResponses needs exactly one of apiKey or azureADTokenProvider.',
      'url: is not a valid URL (redis://[user:password@]host:port[/db]); percent-encode reserved characters',
      'connect ECONNREFUSED [::1]:6379 (redis://[::1]:6379/0)',
    ];
    for (const text of texts) expect(redactSecrets(text)).toBe(text);
  });
});

describe('URL-encoded secrets', () => {
  it('an AWS secret or session token with / + = is redacted once percent-encoded too', () => {
    const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY=ENCODEDKEY';
    const sessionToken = 'FQoDYXdzEENCODEDsession+token/with/slashes==';
    registerSecret(secretAccessKey);
    registerSecret(sessionToken);
    // A presigned URL (query-string SigV4) quoted back in an error.
    const url =
      'https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      `&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101%2Fus-east-1%2Fbedrock%2Faws4_request` +
      `&X-Amz-Security-Token=${encodeURIComponent(sessionToken)}&X-Amz-Signature=0123456789abcdef0123456789abcdef`;
    const text = `The request to ${url} failed; secret=${encodeURIComponent(secretAccessKey)}`;

    const redacted = redactSecrets(text);
    for (const leak of [
      secretAccessKey,
      encodeURIComponent(secretAccessKey),
      encodeURIComponent(sessionToken),
      'AKIAIOSFODNN7EXAMPLE',
    ]) {
      expect(redacted).not.toContain(leak);
    }
  });

  it('X-Amz-Security-Token is redacted by name, in a query string and in a canonical request', () => {
    // Neither token is registered: the name alone marks it.
    const queryToken = 'FQoDYXdzEFROMquery%2Bstring%2Ftoken%3D%3D';
    expect(redactSecrets(`...&X-Amz-Security-Token=${queryToken}&X-Amz-Signature=00`)).toBe(
      '...&X-Amz-Security-Token=[redacted]&X-Amz-Signature=00',
    );
    // InvalidSignatureException quotes the canonical request, signed headers included.
    const canonical =
      "The Canonical String for this request should have been\n'POST\n/model/m/converse\n\n" +
      'host:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:20250101T000000Z\n' +
      "x-amz-security-token:FQoDYXdzEFROMcanonical+request/token=\n\nhost;x-amz-date;x-amz-security-token'";
    const redacted = redactSecrets(canonical);
    expect(redacted).toContain('x-amz-security-token:[redacted]\n');
    expect(redacted).not.toContain('FQoDYXdzEFROMcanonical');
  });
});
