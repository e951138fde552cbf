import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

describe('examples run offline on the emulator', () => {
  it('long-session.ts compacts a 10,000-item session and every cloud still knows the name', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', join(root, 'examples', 'long-session.ts')],
      {
        cwd: root,
        timeout: 60_000,
      },
    );
    expect(stdout).toMatch(/compacted items 0–\d+ into one summary/);
    for (const cloud of ['Azure chat', 'AWS frontier', 'AWS Bedrock Converse']) {
      expect(stdout).toMatch(new RegExp(`${cloud}\\s+"Your name is Ada\\."`));
    }
    // After the one-time summary, each move sends a bounded context, not the 10,000 items.
    const moves = [...stdout.matchAll(/(?:AWS frontier|AWS Bedrock Converse)\s+".*?"\s+sent ([\d,]+) B/g)];
    expect(moves).toHaveLength(2);
    for (const [, bytes] of moves) expect(Number(bytes!.replaceAll(',', ''))).toBeLessThan(50_000);
    expect(stdout).toContain('The summary, stored in the session: Summary: the user said "my name is Ada".');
  }, 90_000);
});
