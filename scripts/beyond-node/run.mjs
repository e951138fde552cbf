// Runs the app's conversation on Node or Bun against the emulator URLs given as JSON in argv[2],
// and prints its report as one line of JSON (test/beyond-node/node-and-bun.test.ts).
import { converse } from './app.mjs';

console.log(JSON.stringify(await converse(JSON.parse(process.argv[2]))));
