// The packed tarball, placed into a consumer's node_modules the way npm unpacks a dependency
// (without installing anything else: the consumer's own lockfile decides its other packages).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;

/** Runs `npm pack` on the built package and returns the tarball's path inside `dir`. */
export function packCloudhop(dir) {
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .trim()
    .split('\n')
    .at(-1);
  return join(dir, name);
}

/** Unpacks the tarball as `<nodeModules>/cloudhop`, replacing any earlier copy. */
export function unpackCloudhop(tarball, nodeModules) {
  const target = join(nodeModules, 'cloudhop');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  return target;
}
