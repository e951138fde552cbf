import { http } from 'msw';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { aiSdkRuntime } from '../../../src/ai-sdk.js';
import { startEmulator } from '../../../src/emulator/index.js';
import { createAgent, type Item, type MessageItem, memoryStore, tool } from '../../../src/index.js';
import { cloudsOn, INSTRUCTIONS } from '../../integration/helpers.js';
import {
  aiSdkRuns,
  geminiSse,
  importWhereSupported,
  providerServer,
  warnIfSkipped,
} from './ai-sdk-test-kit.js';

warnIfSkipped('cloudhop/ai-sdk session move (azureChat → Gemini → frontier)');
const google = await importWhereSupported(() => import('@ai-sdk/google'));

const TEMPERATURES: Record<string, number> = { Paris: 21, Lyon: 17 };
const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: TEMPERATURES[city] ?? 0 }),
});

/** "Paris 21°C, Lyon 17°C" from tool outputs such as `{"city":"Paris","tempC":21}`. */
function reportOf(outputs: string[]): string {
  return outputs
    .map((output) => JSON.parse(output) as { city: string; tempC: number })
    .map(({ city, tempC }) => `${city} ${tempC}°C`)
    .join(', ');
}

// frontier (the emulator) answers the recap question from every tool result its context holds.
const emu = await startEmulator({
  respond: ({ entries }) => {
    const last = entries.filter((entry) => entry.type === 'message' && entry.role === 'user').at(-1);
    if (last?.type !== 'message' || !/which temperatures/i.test(last.text)) return undefined;
    const outputs = entries.flatMap((entry) => (entry.type === 'tool_result' ? [entry.output] : []));
    return `The tools reported: ${reportOf(outputs)}.`;
  },
});
afterAll(() => emu.close());
const clouds = cloudsOn(emu);

// Gemini behind msw; the emulator's traffic on 127.0.0.1 passes through.
const server = providerServer('bypass');
const GEMINI_STREAM =
  /^https:\/\/generativelanguage\.googleapis\.com\/v1beta\/models\/[^/:]+:streamGenerateContent$/;
const GEMINI_SIGNATURE = 'CiQB0e2Kb5Lyon-signature-of-the-function-call';
const usageMetadata = { promptTokenCount: 120, candidatesTokenCount: 12, totalTokenCount: 132 };

/**
 * A scripted Gemini: asked to use get_weather (and no result yet), it calls the tool for the city
 * named, with a signed functionCall as Gemini 2.5 sends it; with the result in, it reports every
 * function response the conversation holds, the earlier runtime's included.
 */
function scriptedGemini({ request }: { request: Request }) {
  return request.json().then((body: any) => {
    const contents: any[] = body.contents;
    const lastUser = contents.findLastIndex(
      (content) =>
        content.role === 'user' && content.parts.some((part: any) => typeof part.text === 'string'),
    );
    const question: string = contents[lastUser].parts.map((part: any) => part.text ?? '').join('');
    const answered = contents
      .slice(lastUser + 1)
      .some((content) => content.parts.some((part: any) => part.functionResponse));
    const city = /get_weather for (\w+)/.exec(question)?.[1];
    if (city && !answered) {
      return geminiSse([
        {
          candidates: [
            {
              content: {
                parts: [
                  {
                    functionCall: { name: 'get_weather', args: { city } },
                    thoughtSignature: GEMINI_SIGNATURE,
                  },
                ],
                role: 'model',
              },
              index: 0,
            },
          ],
          usageMetadata,
          modelVersion: 'gemini-2.5-flash',
          responseId: 'gemini-call-1',
        },
        {
          candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
          usageMetadata,
          modelVersion: 'gemini-2.5-flash',
          responseId: 'gemini-call-1',
        },
      ]);
    }
    const outputs = contents.flatMap((content) =>
      content.parts.flatMap((part: any) =>
        part.functionResponse ? [part.functionResponse.response.content] : [],
      ),
    );
    return geminiSse([
      {
        candidates: [
          {
            content: {
              parts: [{ text: `So far get_weather reported: ${reportOf(outputs)}.` }],
              role: 'model',
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata,
        modelVersion: 'gemini-2.5-flash',
        responseId: 'gemini-answer-1',
      },
    ]);
  });
}

async function streamed(agent: ReturnType<typeof createAgent>, input: string, session: string) {
  const stream = agent.stream(input, { session });
  for await (const _event of stream);
  return stream.result;
}

function calls(items: Item[]) {
  return items.filter((item) => item.type === 'tool_call');
}

describe.skipIf(!aiSdkRuns)('one session moves azureChat → Gemini (AI SDK) → frontier', () => {
  it('keeps every tool call and result, and each later runtime answers from what the earlier tools returned', async () => {
    server.use(http.post(GEMINI_STREAM, server.recorded(scriptedGemini)));
    const gemini = aiSdkRuntime(
      google.createGoogleGenerativeAI({ apiKey: 'AIza-move-test-key-0123456789' })('gemini-2.5-flash'),
    );
    const store = memoryStore();
    const agent = createAgent({
      runtime: clouds.azureChat,
      store,
      tools: [weather],
      instructions: INSTRUCTIONS,
    });
    const session = 'moving';

    // 1. Azure chat on the emulator calls the tool for Paris. Not streamed: openai 7 reading a chat
    // stream through msw's fetch interceptor (passthrough) never gets past `[DONE]`.
    const onAzure = await agent.run('Use get_weather for Paris.', { session });
    expect(onAzure.runtimeId).toBe(clouds.azureChat.id);
    const [azureCall] = calls(onAzure.items);
    expect(azureCall).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(azureCall!.callId).toMatch(/^call_/);

    // 2. Gemini gets Azure's call and result, calls the tool for Lyon, and reports both.
    const onGemini = await streamed(agent.withRuntime(gemini), 'Use get_weather for Lyon.', session);
    expect(onGemini.runtimeId).toBe(gemini.id);
    expect(onGemini.text).toBe('So far get_weather reported: Paris 21°C, Lyon 17°C.');
    const [geminiCall] = calls(onGemini.items);
    expect(geminiCall).toMatchObject({ name: 'get_weather', arguments: '{"city":"Lyon"}' });
    expect(server.seen).toHaveLength(2);
    const firstGeminiRequest = server.seen[0]!.body.contents;
    expect(firstGeminiRequest).toContainEqual({
      role: 'model',
      parts: [{ functionCall: { id: azureCall!.callId, name: 'get_weather', args: { city: 'Paris' } } }],
    });
    expect(firstGeminiRequest).toContainEqual({
      role: 'user',
      parts: [
        {
          functionResponse: {
            id: azureCall!.callId,
            name: 'get_weather',
            response: { name: 'get_weather', content: '{"city":"Paris","tempC":21}' },
          },
        },
      ],
    });
    // Gemini's own call goes back to Gemini with its signature.
    expect(server.seen[1]!.body.contents).toContainEqual({
      role: 'model',
      parts: [
        {
          functionCall: { id: geminiCall!.callId, name: 'get_weather', args: { city: 'Lyon' } },
          thoughtSignature: GEMINI_SIGNATURE,
        },
      ],
    });

    // 3. frontier (Responses API on the emulator) gets the whole transcript and answers from it.
    const onFrontier = await agent
      .withRuntime(clouds.frontier)
      .run('Which temperatures did the tools report?', { session });
    expect(onFrontier.runtimeId).toBe(clouds.frontier.id);
    expect(onFrontier.text).toBe('The tools reported: Paris 21°C, Lyon 17°C.');
    const [frontierRequest] = emu.requests(1);
    expect(frontierRequest!.route).toBe('responses');
    const input: any[] = (frontierRequest!.body as any).input;
    expect(input.filter((entry) => entry.type === 'function_call')).toMatchObject([
      { call_id: azureCall!.callId, name: 'get_weather', arguments: '{"city":"Paris"}' },
      { call_id: geminiCall!.callId, name: 'get_weather', arguments: '{"city":"Lyon"}' },
    ]);
    expect(input.filter((entry) => entry.type === 'function_call_output')).toMatchObject([
      { call_id: azureCall!.callId, output: '{"city":"Paris","tempC":21}' },
      { call_id: geminiCall!.callId, output: '{"city":"Lyon","tempC":17}' },
    ]);
    // Gemini's signature is Gemini's: it does not travel to another family.
    expect(input.some((entry) => entry.type === 'reasoning')).toBe(false);
    expect(JSON.stringify(input)).not.toContain(GEMINI_SIGNATURE);

    // The session holds all of it: two calls, each answered, from the runtimes that made them.
    const items = await agent.session(session).items();
    const stored = calls(items);
    expect(stored.map((call) => [call.callId, call.runtimeId])).toEqual([
      [azureCall!.callId, clouds.azureChat.id],
      [geminiCall!.callId, gemini.id],
    ]);
    for (const call of stored) {
      const index = items.indexOf(call);
      expect(items.slice(index + 1).find((item) => item.type === 'tool_result')).toMatchObject({
        callId: call.callId,
      });
    }
    expect(items.filter((item) => item.type === 'reasoning')).toMatchObject([
      {
        runtimeId: gemini.id,
        provider: {
          family: 'google.generative-ai',
          data: {
            part: 'tool-call',
            toolCallId: geminiCall!.callId,
            providerOptions: { google: { thoughtSignature: GEMINI_SIGNATURE } },
          },
        },
      },
    ]);
    const answers = items.filter(
      (item): item is MessageItem => item.type === 'message' && item.role === 'assistant',
    );
    expect(answers.map((item) => item.runtimeId)).toEqual([
      clouds.azureChat.id,
      gemini.id,
      clouds.frontier.id,
    ]);
  });
});
