// @ts-check
// An application on zod 3.25 with schemas from 'zod/v4', using the packed cloudhop.
// scripts/zod3-test.mjs type-checks it (tsconfig.json: with and without skipLibCheck) and runs it.
// Each `@ts-expect-error` is an error only while cloudhop's types are real: if its declarations
// degrade to `any` (as when they do not compile against zod 3.25 and skipLibCheck hides that),
// the directive itself becomes the error.
import assert from 'node:assert/strict';
import { CloudhopError, createAgent, itemSchema, tool } from 'cloudhop';
import { scriptedRuntime } from 'cloudhop/testing';
import { z as zod3Classic } from 'zod';
import { z } from 'zod/v4';

/** @param {import('cloudhop').Item} item */
const acceptItem = (item) => item;
/** @param {import('cloudhop').MessageItem['role']} role */
const acceptRole = (role) => role;
/** @param {number} value */
const acceptNumber = (value) => value;

let executed = 0;
const weather = tool({
  name: 'get_weather',
  input: z.object({ city: z.string() }),
  execute: ({ city }) => {
    executed += 1;
    return { city, tempC: 21 };
  },
});
// @ts-expect-error the tool's input is typed from its schema
acceptNumber(/** @type {Parameters<typeof weather.execute>[0]} */ ({ city: 'Paris' }).city);
assert.deepEqual(weather.parameters.properties, { city: { type: 'string' } });

const item = itemSchema.parse({
  type: 'message',
  id: '01J0000000000000000000000',
  role: 'user',
  content: [{ type: 'text', text: 'Hi' }],
  createdAt: '2026-01-01T00:00:00.000Z',
});
acceptItem(item);
if (item.type === 'message') acceptRole(item.role);
// @ts-expect-error an Item is one of the item shapes, not anything
acceptItem({ type: 'message', text: 'Hi' });
// @ts-expect-error a message's role is one of three
acceptRole('robot');
assert.equal(itemSchema.safeParse({ type: 'message', text: 'Hi' }).success, false);

const agent = createAgent({
  runtime: scriptedRuntime([
    { toolCalls: [{ name: 'get_weather', arguments: { city: 42 } }] },
    { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
    '{"city":"Paris"}',
  ]),
  tools: [weather],
});
const result = await agent.run('Weather in Paris?', {
  session: 'zod3',
  output: z.object({ city: z.string() }),
});
/** @type {string} */
const city = result.output.city;
// @ts-expect-error the output is typed from its schema
acceptNumber(result.output.city);
assert.equal(city, 'Paris');
assert.equal(executed, 1, 'the tool runs once: the call with a number for city is rejected by its schema');
assert.deepEqual(
  result.items.filter((entry) => entry.type === 'tool_result').map((entry) => entry.isError ?? false),
  [true, false],
);

assert.throws(
  () =>
    tool({
      name: 'get_weather',
      // @ts-expect-error a zod 3 classic schema is not a zod 4 schema
      input: zod3Classic.object({ city: zod3Classic.string() }),
      execute: ({ city }) => city,
    }),
  (error) =>
    CloudhopError.isInstance(error) && error.code === 'invalid_config' && error.message.includes('zod/v4'),
);

console.log('ok');
