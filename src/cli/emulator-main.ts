// Runs `cloudhop emulator` straight from source: `npx tsx src/cli/emulator-main.ts [--port 4010]`.
import { runEmulatorCommand } from './emulator.js';

runEmulatorCommand(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`cloudhop emulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
});
