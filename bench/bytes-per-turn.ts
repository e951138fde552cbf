import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { frontier } from '../src/aws.js';
import { azureChat } from '../src/azure.js';
import { startEmulator } from '../src/emulator/index.js';
import { createAgent, memoryStore, type Runtime } from '../src/index.js';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));

async function bytesPerTurn(runtime: Runtime, turns: number): Promise<number[]> {
  const agent = createAgent({ runtime, store: memoryStore(), instructions: 'You are a helpful assistant.' });
  const bytes: number[] = [];
  for (let n = 1; n <= turns; n++) {
    const result = await agent.run(
      n === 1 ? 'Hi, my name is Ada.' : `Tell me something about the number ${n}.`,
      { session: 'bytes' },
    );
    bytes.push(result.usage.requestBytes);
  }
  return bytes;
}

function chart(stateless: number[], stateful: number[]): string {
  const width = 640;
  const height = 320;
  const pad = 48;
  const max = Math.max(...stateless, ...stateful);
  const x = (i: number) => pad + (i / (stateless.length - 1)) * (width - 2 * pad);
  const y = (v: number) => height - pad - (v / max) * (height - 2 * pad);
  const line = (values: number[]) =>
    values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${width / 2}" y="20" text-anchor="middle" font-size="14">Request bytes per turn over ${stateless.length} turns</text>
  <line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="black"/>
  <line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="black"/>
  <text x="${width / 2}" y="${height - 12}" text-anchor="middle">turn</text>
  <text x="${pad - 4}" y="${pad}" text-anchor="end">${max}</text>
  <text x="${pad - 4}" y="${height - pad}" text-anchor="end">0</text>
  <path d="${line(stateless)}" fill="none" stroke="#d9480f" stroke-width="2"/>
  <path d="${line(stateful)}" fill="none" stroke="#1c7ed6" stroke-width="2"/>
  <text x="${width - pad}" y="${y(stateless.at(-1)!) - 6}" text-anchor="end" fill="#d9480f">stateless (azureChat)</text>
  <text x="${width - pad}" y="${y(stateful.at(-1)!) - 6}" text-anchor="end" fill="#1c7ed6">stateful (frontier)</text>
</svg>
`;
}

/** Runs the same conversation on a stateless and a stateful runtime against the emulator; writes docs/. */
export async function measureBytesPerTurn(turns: number) {
  const emu = await startEmulator({ port: 0 });
  try {
    const stateless = await bytesPerTurn(
      azureChat({ endpoint: emu.azureEndpoint, deployment: 'gpt-4o', apiKey: 'emulator-key' }),
      turns,
    );
    const stateful = await bytesPerTurn(
      frontier({
        region: 'us-east-1',
        model: 'openai.gpt-oss-120b',
        baseURL: emu.openaiBaseURL,
        auth: { apiKey: 'emulator-key' },
      }),
      turns,
    );
    mkdirSync(docs, { recursive: true });
    const rows = stateless
      .map((b, i) => ({ turn: i + 1, stateless: b, stateful: stateful[i]! }))
      .filter((r) => r.turn <= 2 || r.turn % 5 === 0)
      .map((r) => `| ${r.turn} | ${r.stateless} | ${r.stateful} |`);
    writeFileSync(
      `${docs}bytes-per-turn.md`,
      `# Request bytes per turn\n\nThe same ${turns}-turn conversation on a stateless runtime (azureChat: every request carries the whole conversation) and a stateful one (frontier: a request carries the new input and a handle), against the emulator. Made by \`npm run bench\`.\n\n![chart](bytes-per-turn.svg)\n\n| turn | stateless (azureChat) | stateful (frontier) |\n| ---: | ---: | ---: |\n${rows.join('\n')}\n`,
    );
    writeFileSync(`${docs}bytes-per-turn.svg`, chart(stateless, stateful));
    return { stateless, stateful, files: ['docs/bytes-per-turn.md', 'docs/bytes-per-turn.svg'] };
  } finally {
    await emu.close();
  }
}
