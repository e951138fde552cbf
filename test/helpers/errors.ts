import { expect } from 'vitest';
import { CloudhopError } from '../../src/index.js';

/** Awaits a promise that must reject with a CloudhopError, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<CloudhopError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CloudhopError);
    return error as CloudhopError;
  }
  throw new Error('expected the promise to reject');
}
