import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { expect, it } from 'vitest';
import { eventStreamMessage } from '../../src/emulator/event-stream.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

it("frames ConverseStream events byte for byte as the AWS SDK's own event-stream codec does", () => {
  const headers = {
    ':event-type': 'contentBlockDelta',
    ':content-type': 'application/json',
    ':message-type': 'event',
  };
  const payload = fromUtf8(
    JSON.stringify({
      contentBlockIndex: 0,
      delta: { text: 'Grüße, Ada' },
      p: 'abcdefghijklmnopqrstuvwxyzABCDEFGH',
    }),
  );
  const framed = eventStreamMessage(headers, payload);

  const decoded = codec.decode(framed);
  expect(
    Object.fromEntries(Object.entries(decoded.headers).map(([name, header]) => [name, header.value])),
  ).toEqual(headers);
  expect(toUtf8(decoded.body)).toBe(toUtf8(payload));
  const reference = codec.encode({
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, { type: 'string' as const, value }]),
    ),
    body: payload,
  });
  expect(Buffer.from(framed).equals(Buffer.from(reference))).toBe(true);
});
