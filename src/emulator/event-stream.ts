/**
 * The `application/vnd.amazon.eventstream` framing ConverseStream answers in, written here rather
 * than borrowed from the AWS packages: the emulator then needs no AWS package at all, and the
 * runtime's client, which decodes with its own code, checks this reading of the format.
 *
 * A message is a prelude (total length, headers length, CRC32 of those 8 bytes), the headers,
 * the payload and a CRC32 of everything before it; integers are big-endian.
 */

const PRELUDE_BYTES = 12;
const CHECKSUM_BYTES = 4;
const STRING_HEADER_TYPE = 7;

const CRC32_TABLE = Uint32Array.from({ length: 256 }, (_, byte) => {
  let value = byte;
  for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
  return value;
});

/** CRC-32 (IEEE 802.3), the checksum the format uses. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function encodeHeaders(headers: Record<string, string>): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = encoder.encode(name);
    const valueBytes = encoder.encode(value);
    const header = new Uint8Array(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    const view = new DataView(header.buffer);
    header[0] = nameBytes.length;
    header.set(nameBytes, 1);
    header[1 + nameBytes.length] = STRING_HEADER_TYPE;
    view.setUint16(2 + nameBytes.length, valueBytes.length);
    header.set(valueBytes, 4 + nameBytes.length);
    parts.push(header);
  }
  const encoded = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    encoded.set(part, offset);
    offset += part.length;
  }
  return encoded;
}

/** One event-stream message with string headers (all ConverseStream uses). */
export function eventStreamMessage(headers: Record<string, string>, payload: Uint8Array): Uint8Array {
  const encodedHeaders = encodeHeaders(headers);
  const totalLength = PRELUDE_BYTES + encodedHeaders.length + payload.length + CHECKSUM_BYTES;
  const message = new Uint8Array(totalLength);
  const view = new DataView(message.buffer);
  view.setUint32(0, totalLength);
  view.setUint32(4, encodedHeaders.length);
  view.setUint32(8, crc32(message.subarray(0, 8)));
  message.set(encodedHeaders, PRELUDE_BYTES);
  message.set(payload, PRELUDE_BYTES + encodedHeaders.length);
  view.setUint32(totalLength - CHECKSUM_BYTES, crc32(message.subarray(0, totalLength - CHECKSUM_BYTES)));
  return message;
}
