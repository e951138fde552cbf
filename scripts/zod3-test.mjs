// The peer range promises zod 3.25 (schemas from 'zod/v4'). test/compat/zod3 is an application on
// zod 3.25, installed from its own lockfile (`npm ci --prefix test/compat/zod3`, done by .ci/run);
// it gets the packed cloudhop, then must type-check with skipLibCheck off (the published
// declarations compile against zod 3.25) and on (the types stay real, not `any`), and run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packCloudhop, root, unpackCloudhop } from './packed-cloudhop.mjs';

const app = join(root, 'test/compat/zod3');
const modules = join(app, 'node_modules');
if (!existsSync(join(modules, 'zod/package.json'))) {
  console.error('test/compat/zod3 is not installed: run `npm ci --prefix test/compat/zod3` first.');
  process.exit(1);
}

const run = (cmd, args) =>
  execFileSync(cmd, args, { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tsc = join(modules, 'typescript/bin/tsc');

const checks = [];
function check(name, fn) {
  try {
    fn();
    checks.push([name, true]);
  } catch (error) {
    const output = [error.stdout, error.stderr].filter(Boolean).join('\n') || error.message;
    checks.push([name, false, output.trim().split('\n').slice(0, 8).join('\n')]);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'cloudhop-zod3-'));
try {
  unpackCloudhop(packCloudhop(dir), modules);
  const { version } = JSON.parse(run('node', ['-p', "JSON.stringify(require('zod/package.json'))"]));
  console.log(`zod ${version}`);

  check('the declarations compile against zod 3.25 (skipLibCheck off)', () => {
    run('node', [tsc, '-p', 'tsconfig.json']);
  });
  check('Item, tool input and structured output stay typed (skipLibCheck on)', () => {
    run('node', [tsc, '-p', 'tsconfig.skip-lib-check.json']);
  });
  check("a turn with a 'zod/v4' tool and output schema runs; a zod 3 classic schema is refused", () => {
    const out = run('node', ['consumer.mjs']);
    if (!out.includes('ok')) throw new Error(out);
  });
} finally {
  rmSync(join(modules, 'cloudhop'), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

for (const [name, ok, detail] of checks)
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `\n${detail}` : ''}`);
const failed = checks.filter(([, ok]) => !ok).length;
console.log(`zod 3.25: ${checks.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
