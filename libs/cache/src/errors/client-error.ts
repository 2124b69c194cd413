import { HttpException } from '@nestjs/common';

/**
 * Whether `error` is a refusal rather than a failure: a 4xx `HttpException` (not found, forbidden,
 * gone…) thrown on purpose by a loader or handler. It is the answer to the call, so a stale copy
 * (the fail-safe) never stands in for it: the resource is gone, or the caller may no longer see it.
 */
export function isClientError(error: unknown): boolean {
  if (!(error instanceof HttpException)) return false;
  const status = error.getStatus();
  return status >= 400 && status < 500;
}
