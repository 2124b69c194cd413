/**
 * Base class of every error the library throws. `code` is stable across versions, so callers
 * can branch on it instead of on message text or class identity (which breaks with two copies
 * of the package in one app).
 */
export abstract class CacheError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
