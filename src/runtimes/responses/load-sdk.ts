import { CloudhopError } from '../../core/errors.js';

/**
 * Vendor packages are optional peers: they are imported on a runtime's first step, never at
 * `import 'cloudhop'`, and cached. A missing one becomes `invalid_config` naming what to install.
 */

export type OpenAIModule = typeof import('openai');
export function cached<T>(load: () => Promise<T>, install: string, purpose: string): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw isModuleNotFound(error)
        ? new CloudhopError(
            'invalid_config',
            `${purpose} needs packages that are not installed: run \`npm install ${install}\`.`,
            { cause: error, retryable: false },
          )
        : error;
    });
    return loading;
  };
}

/** Also looks through `cause`: loaders and bundlers wrap the resolution error. */
function isModuleNotFound(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  }
  return false;
}

export const loadOpenAI = cached(() => import('openai'), 'openai', 'A Responses runtime');
