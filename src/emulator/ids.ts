import { randomBytes, randomUUID } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alphanumeric(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return out;
}

function hex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

/** Ids in the vendors' own formats, so clients that sniff prefixes see what they expect. */
export const newIds = {
  chatCompletion: () => `chatcmpl-${alphanumeric(29)}`,
  response: () => `resp_${hex(48)}`,
  message: () => `msg_${hex(48)}`,
  functionCall: () => `fc_${hex(48)}`,
  functionCallOutput: () => `fco_${hex(48)}`,
  item: () => `item_${hex(48)}`,
  call: () => `call_${alphanumeric(24)}`,
  conversation: () => `conv_${hex(48)}`,
  toolUse: () => `tooluse_${alphanumeric(22)}`,
  request: () => randomUUID(),
};
