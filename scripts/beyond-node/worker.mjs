// The Cloudflare Worker of test/beyond-node/workerd.test.ts, bundled with the app by esbuild:
// POST / with the emulator's URLs runs the app's conversation and answers its report;
// GET /missing-credentials answers what the runtimes say without endpoint or key.
import { converse, missingCredentials } from './app.mjs';

export default {
  async fetch(request) {
    try {
      if (new URL(request.url).pathname === '/missing-credentials')
        return Response.json(missingCredentials());
      return Response.json(await converse(await request.json()));
    } catch (error) {
      return new Response(String(error?.stack ?? error), { status: 500 });
    }
  },
};
