import { describeThrown } from '../core/errors.js';
import { byteLength } from '../core/usage.js';

/** Tool outputs above this are refused rather than cut: a truncated result would silently mislead the model. */
export const MAX_TOOL_OUTPUT_BYTES = 1024 * 1024;

export type SerializedOutput = { ok: true; text: string } | { ok: false; error: string };

/** Turns what a tool returned into the text the model sees; strings pass as they are. */
export function serializeToolOutput(value: unknown): SerializedOutput {
  let text: string | undefined;
  if (typeof value === 'string') {
    text = value;
  } else {
    try {
      text = JSON.stringify(value === undefined ? null : value);
    } catch (error) {
      return {
        ok: false,
        error: `the tool's result cannot be serialized to JSON (${describeThrown(error)}). Return plain data: strings, numbers, arrays, objects without cycles.`,
      };
    }
    if (text === undefined) {
      return {
        ok: false,
        error: `the tool returned a ${typeof value}, which is not JSON. Return plain data.`,
      };
    }
  }
  const bytes = byteLength(text);
  if (bytes > MAX_TOOL_OUTPUT_BYTES) {
    return {
      ok: false,
      error: `the tool's result is ${bytes} bytes, over the ${MAX_TOOL_OUTPUT_BYTES}-byte limit. Return a summary or a smaller page of data.`,
    };
  }
  return { ok: true, text };
}
