import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `@opentelemetry/api` is an optional peer: these run cloudhop (its sources, through tsx) in a
 * fresh Node process whose module resolution is watched by a loader hook, which records every
 * module resolved and can make `@opentelemetry/api` unresolvable, as when it is not installed.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cloudhop-otel-peer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
let missing;
export function initialize(data) {
  log = data.log;
  missing = data.missing;
}
export async function resolve(specifier, context, next) {
  if (missing && specifier === '@opentelemetry/api') {
    appendFileSync(log, 'not found: ' + specifier + '\\n');
    const error = new Error("Cannot find package '@opentelemetry/api' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  const resolved = await next(specifier, context);
  appendFileSync(log, resolved.url + '\\n');
  return resolved;
}
`;

/** The child: registers the hooks, then runs `body` with createAgent and scriptedRuntime in scope. */
function childScript(body: string): string {
  const src = (path: string) => JSON.stringify(pathToFileURL(join(root, path)).href);
  return `
import { register } from 'node:module';
import { readFileSync } from 'node:fs';
const log = process.env.RESOLVE_LOG;
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), {
  data: { log, missing: process.env.OTEL_MISSING === '1' },
});
const { createAgent } = await import(${src('src/index.ts')});
const { scriptedRuntime } = await import(${src('src/testing/index.ts')});
const resolved = () => readFileSync(log, 'utf8').split('\\n').filter(Boolean);
const report = {};
${body}
console.log(JSON.stringify(report));
`;
}

async function inChild(name: string, body: string, env: Record<string, string> = {}): Promise<any> {
  const log = join(dir, `${name}.log`);
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', childScript(body)],
    { cwd: root, env: { ...process.env, ...env, RESOLVE_LOG: log }, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** What of OpenTelemetry, or of cloudhop's telemetry module, a list of resolved URLs holds. */
const telemetryModules = (urls: string[]) =>
  urls.filter((url) => /@opentelemetry|\/telemetry\/|not found/.test(url));

describe('@opentelemetry/api, an optional peer', () => {
  it('is not loaded by an agent without telemetry; an agent with it loads it on its first turn', async () => {
    const report = await inChild(
      'off-then-on',
      `
const plain = createAgent({ runtime: scriptedRuntime(['plain answer']) });
report.plain = (await plain.run('Hi', { session: 's' })).text;
report.withoutTelemetry = resolved();
const traced = createAgent({ runtime: scriptedRuntime(['traced answer']), telemetry: {} });
report.beforeFirstTurn = resolved();
report.traced = (await traced.run('Hi', { session: 's' })).text;
report.withTelemetry = resolved();
`,
    );
    expect(report.plain).toBe('plain answer');
    // The hooks saw cloudhop load (so they see what it imports), and nothing of telemetry.
    expect(report.withoutTelemetry.some((url: string) => url.endsWith('/src/agent/create-agent.ts'))).toBe(
      true,
    );
    expect(telemetryModules(report.withoutTelemetry)).toEqual([]);
    // createAgent alone loads nothing either: the first turn does.
    expect(telemetryModules(report.beforeFirstTurn)).toEqual([]);
    expect(report.traced).toBe('traced answer');
    const loaded = telemetryModules(report.withTelemetry);
    expect(loaded.some((url: string) => url.includes('/node_modules/@opentelemetry/api/'))).toBe(true);
    expect(loaded.some((url: string) => url.endsWith('/src/telemetry/otel-tracer.ts'))).toBe(true);
  });

  it('when it is not installed, a turn of an agent with telemetry rejects with invalid_config saying to install it', async () => {
    const report = await inChild(
      'missing',
      `
const traced = createAgent({ runtime: scriptedRuntime(['never sent', 'answer']), telemetry: {} });
for (const attempt of ['first', 'second']) {
  try {
    await traced.run('Hi', { session: 's' });
    report[attempt] = 'resolved';
  } catch (error) {
    report[attempt] = { code: error.code, message: error.message, retryable: error.retryable, version: await traced.session('s').version() };
  }
}
const plain = createAgent({ runtime: scriptedRuntime(['plain answer']) });
report.plain = (await plain.run('Hi', { session: 's' })).text;
report.lookups = resolved().filter((line) => line.startsWith('not found'));
`,
      { OTEL_MISSING: '1' },
    );
    for (const attempt of [report.first, report.second]) {
      expect(attempt).toEqual({
        code: 'invalid_config',
        message: expect.stringContaining('npm install @opentelemetry/api'),
        retryable: false,
        version: 0,
      });
      expect(attempt.message).toContain('"telemetry"');
    }
    // A failed load is tried again by the next turn (the package may have been installed since).
    expect(report.lookups).toEqual(['not found: @opentelemetry/api', 'not found: @opentelemetry/api']);
    expect(report.plain).toBe('plain answer');
  });
});
