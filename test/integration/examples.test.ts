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
  it('observability.ts prints a trace with a retry, a failover, a tool span and the cost', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', join(root, 'examples', 'observability.ts')],
      { cwd: root, timeout: 60_000 },
    );
    const tree = stdout.slice(stdout.indexOf('\ntrace:\n'));
    expect(tree).toMatch(/^invoke_agent weather-bot .* cost\.usd=\d/m);
    expect(tree).toMatch(/^ {2}· event cloudhop\.retry /m);
    expect(tree).toMatch(/^ {2}· event cloudhop\.failover /m);
    expect(tree.match(/^ {2}chat gpt-4o .* ERROR .*error\.type="provider_unavailable"/gm)).toHaveLength(2);
    expect(tree).toMatch(/^ {2}chat openai\.gpt-oss-120b .*provider\.name="aws\.bedrock"/m);
    expect(tree).toMatch(/^ {2}execute_tool get_weather /m);
    expect(tree).toMatch(/^ {2}chat gpt-4o [^\n]*finish_reasons=\["stop"\]/m);
    expect(stdout).toMatch(/^cost: \{"usd":\d/m);
  }, 90_000);
});
