import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { entries } from '../../tsup.config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** `CLOUDHOP_README=<file>` points the check at another copy (to see it fail on a broken block). */
const readmePath = process.env.CLOUDHOP_README ?? join(root, 'README.md');
const readmeName = relative(root, readmePath);

/**
 * The rule: a fenced ```ts block is a program when it has an `import … from 'cloudhop…'`
 * statement; it then must compile as it stands, as a user who pastes it into an ESM file would
 * (strict, top-level await allowed), against the package's published subpaths.
 *
 * Blocks without such an import are fragments and are skipped. At the time of writing, README.md
 * has 14 ```ts blocks, 7 programs and 7 fragments: the `Item`/`Part` shape (pseudo types with
 * untyped fields), the option lists of azureChat/openaiChat, bedrockConverse, frontier/
 * openaiResponses/azureResponses (signatures with `?` and `|`, not calls), and the snippets about
 * compaction options and failover, which reuse `runtime`, `store`, `a`, `b`, `c` from elsewhere.
 */
const programImport = /^\s*import\s[^;]*?\bfrom\s+['"]cloudhop(\/[^'"]*)?['"]/m;

interface Block {
  /** README line of the opening fence. */
  fenceLine: number;
  code: string;
}

function tsBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let open: { fenceLine: number; body: string[]; ts: boolean } | undefined;
  lines.forEach((line, i) => {
    if (!open) {
      const m = /^\s*```(\S*)/.exec(line);
      if (m) open = { fenceLine: i + 1, body: [], ts: /^(ts|typescript)$/i.test(m[1] ?? '') };
    } else if (/^\s*```\s*$/.test(line)) {
      if (open.ts) blocks.push({ fenceLine: open.fenceLine, code: open.body.join('\n') });
      open = undefined;
    } else {
      open.body.push(line);
    }
  });
  return blocks;
}

/** `cloudhop` and `cloudhop/<sub>` for every subpath package.json exports, mapped to its source. */
function cloudhopPaths(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  const sources = entries as Record<string, string>;
  const paths: Record<string, string[]> = {};
  for (const key of Object.keys(pkg.exports)) {
    if (key === './package.json') continue;
    const name = key === '.' ? 'index' : key.slice(2);
    const source = sources[name];
    if (!source) throw new Error(`package.json exports "${key}" but tsup.config.ts has no entry "${name}"`);
    paths[key === '.' ? 'cloudhop' : `cloudhop/${name}`] = [join(root, source)];
  }
  return paths;
}

// Under .tmp/ (gitignored) so that third-party imports (zod, @opentelemetry/api, vitest, …)
// resolve from the repository's node_modules, as they would from an app's.
mkdirSync(join(root, '.tmp'), { recursive: true });
const dir = mkdtempSync(join(root, '.tmp', 'readme-code-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README code blocks', () => {
  const blocks = tsBlocks(readFileSync(readmePath, 'utf8'));
  const programs = blocks.filter((b) => programImport.test(b.code));

  it('every ```ts block that imports cloudhop compiles as an ESM program', () => {
    expect(programs.length).toBeGreaterThan(0);

    const files = programs.map((block, n) => {
      const file = `block-${n + 1}.ts`;
      // `export {}` keeps a block a module (its own scope) even if it has no import/export.
      writeFileSync(join(dir, file), `${block.code}\nexport {};\n`);
      return { file, block };
    });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          skipLibCheck: true,
          esModuleInterop: true,
          noEmit: true,
          paths: cloudhopPaths(),
        },
        files: files.map((f) => f.file),
      }),
    );

    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--pretty', 'false', '-p', dir],
      { cwd: dir, encoding: 'utf8' },
    );
    const output = `${tsc.stdout}${tsc.stderr}`.trim();

    // `block-3.ts(12,5): error TS2304: Cannot find name 'endpoint'.` → README line = fence + 12.
    const problems: string[] = [];
    for (const line of output.split('\n').filter((l) => /error TS\d+/.test(l))) {
      const m = /^(block-(\d+)\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
      const hit = m && files[Number(m[2]) - 1];
      if (m && hit) {
        problems.push(
          `${readmeName}:${hit.block.fenceLine + Number(m[3])}:${m[4]} (block opening at line ${hit.block.fenceLine}): ${m[5]}`,
        );
      } else {
        problems.push(line.replace(dir, relative(root, dir)));
      }
    }
    if (tsc.status !== 0 && problems.length === 0) problems.push(output || `tsc exited ${tsc.status}`);

    expect(problems, `${programs.length} program blocks type-checked`).toEqual([]);
  });
});
