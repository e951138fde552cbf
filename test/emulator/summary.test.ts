// The emulator's model summarizes what it remembers, so a test can show a fact surviving
// compaction: the agent sends "summarize the conversation" instructions plus the conversation as
// text, later delivers the summary as a system/developer message, and the name is still known.
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { bedrockClient, openaiClient } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

interface Message {
  role: 'system' | 'user' | 'assistant';
  text: string;
}

/** Sends the messages on one route, mapping `system` to what that protocol has for it. */
type Ask = (messages: Message[]) => Promise<string>;

function chat(systemRole: 'system' | 'developer'): Ask {
  return async (messages) => {
    const completion = await openaiClient(emu).chat.completions.create({
      model: 'gpt-4o',
      messages: messages.map(
        ({ role, text }): ChatCompletionMessageParam =>
          role === 'system' ? { role: systemRole, content: text } : { role, content: text },
      ),
    });
    return completion.choices[0]!.message.content ?? '';
  };
}

const responsesWithDeveloperMessages: Ask = async (messages) => {
  const response = await openaiClient(emu).responses.create({
    model: 'gpt-4o',
    input: messages.map(
      ({ role, text }): ResponseInputItem => ({
        role: role === 'system' ? 'developer' : role,
        content: text,
      }),
    ),
  });
  return response.output_text;
};

const responsesWithInstructions: Ask = async (messages) => {
  const system = messages.filter((message) => message.role === 'system');
  const response = await openaiClient(emu).responses.create({
    model: 'gpt-4o',
    instructions: system.map((message) => message.text).join('\n'),
    input: messages
      .filter((message) => message.role !== 'system')
      .map(({ role, text }): ResponseInputItem => ({ role, content: text })),
  });
  return response.output_text;
};

/** Bedrock has no system role in `messages`: system text goes in the `system` blocks, ahead of them. */
const converse: Ask = async (messages) => {
  const response = await bedrockClient(emu, { http1: true }).send(
    new ConverseCommand({
      modelId: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
      system: messages.filter((m) => m.role === 'system').map((m) => ({ text: m.text })),
      messages: messages
        .filter((m): m is Message & { role: 'user' | 'assistant' } => m.role !== 'system')
        .map((m) => ({ role: m.role, content: [{ text: m.text }] })),
    }),
  );
  return response.output?.message?.content?.[0]?.text ?? '';
};

const routes: Array<[string, Ask]> = [
  ['chat, system messages', chat('system')],
  ['chat, developer messages', chat('developer')],
  ['responses, developer messages', responsesWithDeveloperMessages],
  ['responses, instructions', responsesWithInstructions],
  ['converse, system blocks', converse],
];

const COMPACTION_INSTRUCTIONS =
  'You compact long chats. Summarize the conversation below in a few sentences, keeping every fact the user stated.';

const system = (text: string): Message => ({ role: 'system', text });
const user = (text: string): Message => ({ role: 'user', text });

describe.each(routes)('the emulator model on %s', (_route, ask) => {
  it('answers a summarization request with a summary that keeps the name', async () => {
    const conversation = [
      'user: my name is Ada',
      'assistant: Nice to meet you, Ada.',
      '',
      'user: What is the weather in Paris?',
      'assistant: Sunny, 21 °C.',
    ].join('\n');
    const summary = await ask([system(COMPACTION_INSTRUCTIONS), user(conversation)]);
    expect(summary).toBe('Summary: the user said "my name is Ada". 4 lines summarized.');
    // Deterministic: the same request, the same summary.
    expect(await ask([system(COMPACTION_INSTRUCTIONS), user(conversation)])).toBe(summary);
  });

  it('keeps the most recent of two names, also when the first comes from an earlier summary', async () => {
    const conversation = [
      'Previous summary: Summary: the user said "my name is Grace". 3 lines summarized.',
      '',
      'user: Actually my name is Ada',
      'assistant: Noted.',
    ].join('\n');
    expect(await ask([system(COMPACTION_INSTRUCTIONS), user(conversation)])).toBe(
      'Summary: the user said "my name is Ada". 3 lines summarized.',
    );
  });

  it('makes up no fact when there is none to keep', async () => {
    expect(await ask([system('SUMMARIZE THE CONVERSATION.'), user('user: hello')])).toBe(
      'Summary: 1 line summarized.',
    );
  });

  it('treats a request as summarization only when its instructions ask for it', async () => {
    expect(await ask([system('Be brief.'), user('user: my name is Ada')])).toBe(
      'Nice to meet you, Ada. (context: 1 message)',
    );
    expect(await ask([user('Please summarize the conversation so far.')])).toBe(
      'Echo: Please summarize the conversation so far. (context: 1 message)',
    );
  });

  it('answers the name from a summary delivered as a system message', async () => {
    const summary = await ask([system(COMPACTION_INSTRUCTIONS), user('user: my name is Ada')]);
    const delivered = system(`Summary of the earlier conversation: ${summary}`);
    expect(await ask([system('You are helpful.'), delivered, user('What is my name?')])).toBe(
      'Your name is Ada.',
    );
  });

  it('lets a later user message override the name a system message holds', async () => {
    const delivered = system('Summary of the earlier conversation: the user said "my name is Ada".');
    expect(
      await ask([
        delivered,
        user('Actually, my name is Grace.'),
        { role: 'assistant', text: 'Noted.' },
        user('What is my name?'),
      ]),
    ).toBe('Your name is Grace.');
  });
});

describe('the emulator model with server-held context', () => {
  it('answers the name from a developer message stored with an earlier response', async () => {
    const client = openaiClient(emu);
    const seeded = await client.responses.create({
      model: 'gpt-4o',
      input: [
        {
          role: 'developer',
          content:
            'Summary of the earlier conversation: Summary: the user said "my name is Ada". 2 lines summarized.',
        },
        { role: 'user', content: 'Hello again' },
      ],
    });
    const next = await client.responses.create({
      model: 'gpt-4o',
      previous_response_id: seeded.id,
      input: 'What is my name?',
    });
    expect(next.output_text).toBe('Your name is Ada.');
  });

  it('reads a chat system message at its place: a later one wins over an earlier user statement', async () => {
    const completion = await openaiClient(emu).chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'my name is Grace' },
        { role: 'assistant', content: 'Nice to meet you, Grace.' },
        { role: 'system', content: 'Summary of the earlier conversation: the user said "my name is Ada".' },
        { role: 'user', content: 'What is my name?' },
      ],
    });
    expect(completion.choices[0]!.message.content).toBe('Your name is Ada.');
  });
});
