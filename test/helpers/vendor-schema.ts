import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** A vendor's API schema extract (an extract of the vendor's own machine-readable description). */
export interface VendorSchema {
  /** Where the extract comes from, as the file itself says. */
  readonly source: string;
  /** Why `value` does not fit the named definition (`$defs` key); empty when it fits. */
  errors(definition: string, value: unknown): string[];
}

/**
 * OpenAPI `oneOf` alternatives overlap where the vendor tells them apart by a `discriminator`
 * (a user message fits both EasyInputMessage and InputMessage), which JSON Schema cannot express;
 * a value fits when at least one alternative accepts it, so `oneOf` is read as `anyOf`.
 */
function withOverlappingAlternatives(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withOverlappingAlternatives);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'discriminator') continue;
    out[key === 'oneOf' ? 'anyOf' : key] = withOverlappingAlternatives(value);
  }
  return out;
}

/**
 * Loads an OpenAPI 3.1 extract whose schemas live under `$defs` (JSON Schema 2020-12), with a
 * `source` field naming where it was cut from.
 */
export function vendorSchema(file: URL): VendorSchema {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as { source: string; $defs: object };
  // Not strict: the vendor's schemas are taken as published (some list `required` names they never define).
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const id = 'vendor-spec';
  ajv.addSchema({ $id: id, $defs: withOverlappingAlternatives(spec.$defs) });
  return {
    source: spec.source,
    errors(definition, value) {
      const validate = ajv.getSchema(`${id}#/$defs/${definition}`);
      if (!validate) throw new Error(`${file.pathname} has no $defs/${definition}`);
      if (validate(value)) return [];
      return (validate.errors ?? []).map((error) => `${error.instancePath || '<root>'} ${error.message}`);
    },
  };
}
