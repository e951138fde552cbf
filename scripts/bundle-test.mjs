// Bundles small apps that import only `cloudhop`, only `cloudhop/azure` and only `cloudhop/openai`
// with esbuild, the way a user ships a Lambda or a container, from an install where no AWS package
// exists: nothing is external except Node's built-ins. Each bundle must build, name no
// `@aws-sdk/…` or `@smithy/…` package, and run a turn against the emulator from a folder without
// node_modules. Run by .ci/run after the build.
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
const deployed = join(dir, 'deployed');

const AWS_PACKAGE = /@aws-sdk\/|@smithy\//;

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
  unpackCloudhop(packCloudhop(dir), modules);
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
} finally {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
}

for (const [name, ok, detail] of checks)
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `\n${detail}` : ''}`);
const failed = checks.filter(([, ok]) => !ok).length;
console.log(`bundle: ${checks.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 && checks.length === Object.keys(apps).length ? 0 : 1);
