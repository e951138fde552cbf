import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const VENDOR_DIR = fileURLToPath(new URL('../fixtures/vendor/', import.meta.url));

/** Raw text of a vendor fixture in test/fixtures/vendor (see its README for sources and quirks). */
export function vendorText(name: string): string {
  return readFileSync(VENDOR_DIR + name, 'utf8');
}

/** A JSON vendor fixture envelope: `{ _source, examples | sequences, ... }`. */
export function vendorJson<T = any>(name: string): T {
  return JSON.parse(vendorText(name)) as T;
}
