// Bundles small apps that import only `cloudhop`, only `cloudhop/azure` and only `cloudhop/openai`
// with esbuild, the way a user ships a Lambda or a container, from an install where no AWS package
// exists: nothing is external except Node's built-ins. Each bundle must build, name no
// `@aws-sdk/…` or `@smithy/…` package, and run a turn against the emulator from a folder without
// node_modules. Then, from an install that does have @opentelemetry/api and the tracing SDK (as
// many apps do): an app without `telemetry` must bundle and run, and an app with it must bundle,
// run and record its spans. (A bundler follows the telemetry chunk's `import()` and inlines it and
// the api where they are installed; they are evaluated only when an agent has `telemetry`.) Run by .ci/run after the build.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { packCloudhop, root, unpackCloudhop } from './packed-cloudhop.mjs';

const dir = mkdtempSync(join(tmpdir(), 'cloudhop-bundle-'));
const app = join(dir, 'app');
const otelApp = join(dir, 'app-otel');
const deployed = join(dir, 'deployed');

const AWS_PACKAGE = /@aws-sdk\/|@smithy\//;
/** What the OpenTelemetry apps need installed: the api, and the tracing SDK with its dependencies. */
const OTEL_PACKAGES = ['api', 'sdk-trace-base', 'sdk-trace', 'core', 'resources', 'semantic-conventions'];

/** What each app imports, and what it does with it against the emulator at EMULATOR_URL. */
const apps = {
  core: `
    import { createAgent, exportSession, importSession, memoryStore, tool, CloudhopError } from 'cloudhop';
    import { z } from 'zod';
    const store = memoryStore();
    await importSession(store, {
      format: 'cloudhop.transcript/v1', namespace: 'default', sessionId: 's', exportedAt: new Date().toISOString(),
      items: [{ type: 'message', id: 'i1', role: 'user', content: [{ type: 'text', text: 'Hi' }], createdAt: new Date().toISOString() }],
      bindings: {},
    });
    if ((await exportSession(store, 's')).items.length !== 1) throw new Error('the transcript did not round-trip');
    tool({ name: 'get_weather', input: z.object({ city: z.string() }), execute: ({ city }) => city });
    let caught;
    try { createAgent({}); } catch (error) { caught = error; }
    if (!(caught instanceof CloudhopError) || caught.code !== 'invalid_config') throw new Error('createAgent({}) did not throw invalid_config');
    console.log('ok');`,
  azure: `
    import { azureChat, azureResponses } from 'cloudhop/azure';
    import { createAgent } from 'cloudhop';
    const endpoint = process.env.EMULATOR_URL;
    for (const runtime of [azureChat({ endpoint, deployment: 'gpt-4o', apiKey: 'k-bundle' }), azureResponses({ endpoint, model: 'gpt-5', apiKey: 'k-bundle' })]) {
      const agent = createAgent({ runtime });
      await agent.run('Hi, my name is Ada.', { session: 'b' });
      const { text } = await agent.run('What is my name?', { session: 'b' });
      if (!text.includes('Ada')) throw new Error(runtime.id + ' forgot the name: ' + text);
    }
    console.log('ok');`,
  openai: `
    import { openaiChat, openaiResponses } from 'cloudhop/openai';
    import { createAgent } from 'cloudhop';
    const baseURL = process.env.EMULATOR_URL + '/v1';
    for (const runtime of [openaiChat({ baseURL, model: 'gpt-4o', apiKey: 'sk-bundle' }), openaiResponses({ baseURL, model: 'gpt-5', apiKey: 'sk-bundle' })]) {
      const agent = createAgent({ runtime });
      await agent.run('Hi, my name is Ada.', { session: 'b' });
      const { text } = await agent.run('What is my name?', { session: 'b' });
      if (!text.includes('Ada')) throw new Error(runtime.id + ' forgot the name: ' + text);
    }
    console.log('ok');`,
};

/** Bundled from an install where @opentelemetry/api and the tracing SDK are present. */
const otelApps = {
  // A turn without the telemetry option.
  untraced: `
    import { createAgent, memoryStore } from 'cloudhop';
    import { openaiChat } from 'cloudhop/openai';
    const agent = createAgent({ runtime: openaiChat({ baseURL: process.env.EMULATOR_URL + '/v1', model: 'gpt-4o', apiKey: 'sk-bundle' }), store: memoryStore() });
    const { text } = await agent.run('Hi, my name is Ada.', { session: 'u' });
    if (!text) throw new Error('no answer');
    console.log('ok');`,
  // The same turn with it: the bundle must carry what telemetry loads, and record the turn.
  traced: `
    import { createAgent, memoryStore } from 'cloudhop';
    import { openaiChat } from 'cloudhop/openai';
    import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const agent = createAgent({
      runtime: openaiChat({ baseURL: process.env.EMULATOR_URL + '/v1', model: 'gpt-4o', apiKey: 'sk-bundle' }),
      store: memoryStore(),
      telemetry: { tracer: provider.getTracer('bundle-test') },
    });
    await agent.run('Hi, my name is Ada.', { session: 't' });
    const spans = exporter.getFinishedSpans();
    const turn = spans.find((s) => s.name === 'invoke_agent');
    const chats = spans.filter((s) => s.name.startsWith('chat') && s.parentSpanContext?.spanId === turn?.spanContext().spanId);
    if (!turn || chats.length === 0) throw new Error('expected invoke_agent with chat children, got: ' + spans.map((s) => s.name).join(', '));
    console.log('ok');`,
};

const checks = [];
async function check(name, fn) {
  try {
    await fn();
    checks.push([name, true]);
  } catch (error) {
    const detail = error.errors?.length
      ? error.errors.map((e) => `${e.text}${e.location ? ` (${e.location.file})` : ''}`).join('\n')
      : error.stderr || error.message || String(error);
    checks.push([name, false, detail.split('\n').slice(0, 8).join('\n')]);
  }
}

let emulator;
try {
  // The installed package is the packed tarball; zod and openai are copied from the root install
  // (no registry access), and no AWS package is placed anywhere the bundler could find one.
  const modules = join(app, 'node_modules');
  const tarball = packCloudhop(dir);
  unpackCloudhop(tarball, modules);
  for (const peer of ['zod', 'openai']) {
    cpSync(join(root, 'node_modules', peer), join(modules, peer), { recursive: true });
  }
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'bundle-test', private: true, type: 'module' }),
  );
  mkdirSync(deployed);

  const { startEmulator } = await import(pathToFileURL(join(root, 'dist/emulator.js')).href);
  emulator = await startEmulator({ port: 0 });

  // A second install, with the OpenTelemetry packages copied from the root install.
  const otelModules = join(otelApp, 'node_modules');
  unpackCloudhop(tarball, otelModules);
  for (const peer of ['zod', 'openai', ...OTEL_PACKAGES.map((name) => `@opentelemetry/${name}`)]) {
    cpSync(join(root, 'node_modules', peer), join(otelModules, peer), { recursive: true });
  }
  writeFileSync(
    join(otelApp, 'package.json'),
    JSON.stringify({ name: 'bundle-test-otel', private: true, type: 'module' }),
  );

  for (const [name, source] of Object.entries(apps)) {
    const entry = join(app, `${name}.mjs`);
    const outfile = join(deployed, `${name}.bundle.mjs`);
    writeFileSync(entry, source);
    await check(
      `an app importing only ${name === 'core' ? "'cloudhop'" : `'cloudhop/${name}'`} bundles without AWS packages and runs`,
      async () => {
        await build({
          entryPoints: [entry],
          outfile,
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node20',
          absWorkingDir: app,
          logLevel: 'silent',
        });
        const bundle = readFileSync(outfile, 'utf8');
        const awsReference = bundle.split('\n').find((line) => AWS_PACKAGE.test(line));
        if (awsReference)
          throw new Error(`the bundle names an AWS package: ${awsReference.trim().slice(0, 200)}`);
        // Not execFileSync: the emulator answers from this process's event loop.
        const { stdout } = await promisify(execFile)('node', [outfile], {
          cwd: deployed,
          env: { ...process.env, EMULATOR_URL: emulator.url },
        });
        if (!stdout.includes('ok')) throw new Error(stdout);
      },
    );
  }

  for (const [name, source] of Object.entries(otelApps)) {
    const entry = join(otelApp, `${name}.mjs`);
    const outfile = join(deployed, `${name}.bundle.mjs`);
    writeFileSync(entry, source);
    await check(
      name === 'untraced'
        ? 'an app without telemetry, where @opentelemetry/api is installed, bundles and runs'
        : 'an app with telemetry bundles with the tracing SDK, runs and records invoke_agent with chat children',
      async () => {
        await build({
          entryPoints: [entry],
          outfile,
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node20',
          absWorkingDir: otelApp,
          // The OpenTelemetry packages' ESM builds: their CommonJS ones require Node built-ins,
          // which an ESM bundle cannot.
          mainFields: ['module', 'main'],
          logLevel: 'silent',
        });
        const { stdout } = await promisify(execFile)('node', [outfile], {
          cwd: deployed,
          env: { ...process.env, EMULATOR_URL: emulator.url },
        });
        if (!stdout.includes('ok')) throw new Error(stdout);
      },
    );
  }
} finally {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
}

for (const [name, ok, detail] of checks)
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `\n${detail}` : ''}`);
const failed = checks.filter(([, ok]) => !ok).length;
console.log(`bundle: ${checks.length - failed} passed, ${failed} failed`);
const expected = Object.keys(apps).length + Object.keys(otelApps).length;
process.exit(failed === 0 && checks.length === expected ? 0 : 1);
