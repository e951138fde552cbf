// Packs the tarball, installs it into a clean temporary project next to its peers, and uses it
// from ESM, from CommonJS, and from both in one process, the way a user would; with `telemetry`
// too, from both formats, which loads the telemetry chunk and @opentelemetry/api from dist/ by
// dynamic import. Run by .ci/run after the build.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'cloudhop-pack-'));
const run = (cmd, args, cwd = dir) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const checks = [];
function check(name, fn) {
  try {
    fn();
    checks.push([name, true]);
  } catch (error) {
    checks.push([
      name,
      false,
      (error.stderr || error.message || String(error)).split('\n').slice(0, 8).join('\n'),
    ]);
  }
}

try {
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').at(-1);
  const peers = [
    'zod',
    'openai',
    '@aws-sdk/client-bedrock-runtime',
    '@smithy/node-http-handler',
    '@opentelemetry/api',
    '@opentelemetry/sdk-trace-base',
  ].map((name) => `${name}@${pkg.devDependencies[name]}`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'pack-test', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball), ...peers]);

  const flow = (load) => `
    const { createAgent, tool, CloudhopError, memoryStore } = ${load('cloudhop')};
    const { scriptedRuntime } = ${load('cloudhop/testing')};
    const { azureChat } = ${load('cloudhop/azure')};
    const { bedrockConverse, frontier } = ${load('cloudhop/aws')};
    const { startEmulator } = ${load('cloudhop/emulator')};
    const { z } = ${load('zod')};
    const main = async () => {
      const scripted = createAgent({ runtime: scriptedRuntime(['hi']) });
      if ((await scripted.run('hello', { session: 's' })).text !== 'hi') throw new Error('scripted run');
      const emu = await startEmulator({ port: 0 });
      const weather = tool({ name: 'get_weather', input: z.object({ city: z.string() }), execute: ({ city }) => ({ city, tempC: 21 }) });
      const agent = createAgent({ runtime: azureChat({ endpoint: emu.azureEndpoint, deployment: 'gpt-4o', apiKey: 'k-pack-test' }), tools: [weather], store: memoryStore() });
      await agent.run('Hi, my name is Ada.', { session: 'p' });
      const aws = agent.withRuntime(bedrockConverse({ region: 'us-east-1', model: 'm', endpoint: emu.bedrockEndpoint, credentials: { accessKeyId: 'AKIDPACK', secretAccessKey: 'pack-secret-key' } }));
      const r = await aws.run('What is my name?', { session: 'p' });
      if (!r.text.includes('Ada')) throw new Error('move lost the name: ' + r.text);
      // A ConverseStream from the emulator, with no @smithy/eventstream-codec or util-utf8 installed.
      const streamed = aws.stream('What is my name?', { session: 'p' });
      for await (const event of streamed) void event;
      if (!(await streamed.result).text.includes('Ada')) throw new Error('streamed Bedrock turn lost the name');
      let caught;
      try { azureChat({}); } catch (e) { caught = e; }
      if (!(caught instanceof CloudhopError) || caught.code !== 'invalid_config') throw new Error('CloudhopError is not one class across subpaths');
      if (typeof frontier !== 'function') throw new Error('frontier missing');
      await emu.close();
      console.log('ok');
    };
    main().catch((e) => { console.error(e); process.exit(1); });`;
  writeFileSync(
    join(dir, 'esm.mjs'),
    flow((name) => `await import('${name}')`),
  );
  writeFileSync(
    join(dir, 'cjs.cjs'),
    flow((name) => `require('${name}')`),
  );

  // A turn with a tool call, traced into an in-memory exporter: one invoke_agent span with the two
  // model requests and the tool call as its children, and the API key on none of them.
  const traced = (load) => `
    const { createAgent, tool, memoryStore } = ${load('cloudhop')};
    const { azureChat } = ${load('cloudhop/azure')};
    const { startEmulator } = ${load('cloudhop/emulator')};
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = ${load('@opentelemetry/sdk-trace-base')};
    const { z } = ${load('zod')};
    const main = async () => {
      const emu = await startEmulator({ port: 0 });
      const exporter = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      try {
        const weather = tool({ name: 'get_weather', input: z.object({ city: z.string() }), execute: ({ city }) => ({ city, tempC: 21 }) });
        const agent = createAgent({
          runtime: azureChat({ endpoint: emu.azureEndpoint, deployment: 'gpt-4o', apiKey: 'k-pack-telemetry' }),
          tools: [weather],
          store: memoryStore(),
          telemetry: { tracer: provider.getTracer('pack-test') },
        });
        const { text } = await agent.run('Use get_weather for Paris.', { session: 'traced' });
        if (!text.includes('get_weather')) throw new Error('the turn did not report the tool: ' + text);
        const spans = exporter.getFinishedSpans();
        const names = spans.map((s) => s.name).join(', ');
        const turn = spans.find((s) => s.name === 'invoke_agent');
        if (!turn) throw new Error('no invoke_agent span, got: ' + names);
        const children = spans.filter((s) => s.parentSpanContext?.spanId === turn.spanContext().spanId);
        const chats = children.filter((s) => s.name.startsWith('chat '));
        if (chats.length !== 2) throw new Error('expected 2 chat children of invoke_agent, got: ' + names);
        if (!children.some((s) => s.name === 'execute_tool get_weather')) throw new Error('no execute_tool child, got: ' + names);
        if (turn.attributes['gen_ai.conversation.id'] !== 'traced') throw new Error('gen_ai.conversation.id: ' + turn.attributes['gen_ai.conversation.id']);
        if (JSON.stringify(spans.map((s) => [s.attributes, s.events, s.status])).includes('k-pack-telemetry')) throw new Error('the API key is on a span');
      } finally {
        await provider.shutdown();
        await emu.close();
      }
      console.log('ok');
    };
    main().catch((e) => { console.error(e); process.exit(1); });`;
  writeFileSync(
    join(dir, 'traced-esm.mjs'),
    traced((name) => `await import('${name}')`),
  );
  writeFileSync(
    join(dir, 'traced-cjs.cjs'),
    traced((name) => `require('${name}')`),
  );

  writeFileSync(
    join(dir, 'untraced.cjs'),
    `
    const { createAgent } = require('cloudhop');
    const { scriptedRuntime } = require('cloudhop/testing');
    createAgent({ runtime: scriptedRuntime(['hi']) }).run('hello', { session: 'u' }).then((result) => {
      if (result.text !== 'hi') throw new Error('scripted run: ' + result.text);
      const loaded = Object.keys(require.cache).filter((p) => /node_modules[\\\\/]@opentelemetry[\\\\/]/.test(p));
      if (loaded.length) throw new Error('loaded: ' + loaded.join(', '));
      console.log('ok');
    }).catch((e) => { console.error(e); process.exit(1); });`,
  );

  // The ESM and CommonJS builds are two copies of the package. An app (or a dependency of it)
  // that requires one runtime while the agent comes from import gets errors from the other copy:
  // they must still be retried, and still be recognised as CloudhopError.
  writeFileSync(
    join(dir, 'dual.mjs'),
    `
    import { createRequire } from 'node:module';
    import { createAgent, CloudhopError } from 'cloudhop';
    import { startEmulator } from 'cloudhop/emulator';
    const fromCjs = createRequire(import.meta.url)('cloudhop/openai');
    const emu = await startEmulator({ port: 0, faults: [{ route: 'chat', status: 429, retryAfterMs: 20, count: 1 }] });
    try {
      const agent = createAgent({ runtime: fromCjs.openaiChat({ baseURL: emu.openaiBaseURL, apiKey: 'sk-dual-package', model: 'gpt-4o' }) });
      const stream = agent.stream('Hi, my name is Ada.', { session: 'dual' });
      const retries = [];
      for await (const event of stream) if (event.type === 'retry') retries.push(event.error.code);
      const { text } = await stream.result;
      if (retries.join() !== 'rate_limited') throw new Error('expected one retry of the 429, got: [' + retries + ']');
      if (!text.includes('Ada')) throw new Error('the retried turn did not answer: ' + text);
      let cjsError;
      try { fromCjs.openaiChat({}); } catch (error) { cjsError = error; }
      if (typeof CloudhopError.isInstance !== 'function') throw new Error('CloudhopError.isInstance is missing');
      if (!CloudhopError.isInstance(cjsError)) throw new Error('CloudhopError.isInstance(an error of the CommonJS copy) is false in ESM');
    } finally {
      await emu.close();
    }
    console.log('ok');`,
  );

  check('ESM import of every subpath and a cross-cloud turn', () => {
    const out = run('node', ['esm.mjs']);
    if (!out.includes('ok')) throw new Error(out);
  });
  check('CommonJS require of every subpath and a cross-cloud turn', () => {
    const out = run('node', ['cjs.cjs']);
    if (!out.includes('ok')) throw new Error(out);
  });
  check('an ESM agent retries a 429 from a runtime of the CommonJS copy, and knows its errors', () => {
    const out = run('node', ['dual.mjs']);
    if (!out.includes('ok')) throw new Error(out);
  });
  check('ESM: a turn with telemetry records invoke_agent with chat and execute_tool children', () => {
    const out = run('node', ['traced-esm.mjs']);
    if (!out.includes('ok')) throw new Error(out);
  });
  check('CommonJS: a turn with telemetry records invoke_agent with chat and execute_tool children', () => {
    const out = run('node', ['traced-cjs.cjs']);
    if (!out.includes('ok')) throw new Error(out);
  });
  check("import 'cloudhop' loads no vendor SDK or store driver", () => {
    run('node', [
      '-e',
      "require('cloudhop'); const l = Object.keys(require.cache).filter(p => /node_modules[\\\\/](openai|@aws-sdk|@smithy|@opentelemetry|ioredis|pg|better-sqlite3)[\\\\/]/.test(p)); if (l.length) { console.log(l.join('\\n')); process.exit(1); }",
    ]);
  });
  // @opentelemetry/api is installed next to cloudhop here: a turn without telemetry must not load it.
  check('a CommonJS turn without telemetry loads nothing of OpenTelemetry', () => {
    const out = run('node', ['untraced.cjs']);
    if (!out.includes('ok')) throw new Error(out);
  });
  check('the cloudhop bin answers --help', () => {
    const out = run('npx', ['--no-install', 'cloudhop', '--help']);
    if (!out.includes('cloudhop emulator')) throw new Error(out);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

for (const [name, ok, detail] of checks)
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `\n${detail}` : ''}`);
const failed = checks.filter(([, ok]) => !ok).length;
console.log(`pack: ${checks.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
