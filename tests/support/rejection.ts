import { expect } from 'vitest';
import { TandemError } from '../../src/main/core/errors';

/** The TandemError a promise rejects with (a test fails if it resolves, or rejects with anything else). */
export async function rejection(promise: Promise<unknown>): Promise<TandemError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TandemError);
    return err as TandemError;
  }
  throw new Error('expected a rejection');
}
