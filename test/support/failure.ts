import { FwdError } from '@fwd/core';
import { expect } from 'vitest';

/** The FwdError `promise` rejects with; the test fails if it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<FwdError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FwdError);
  return err as FwdError;
}
