/**
 * Base class of every error the library throws. `code` is stable across versions, so callers
 * can branch on it instead of on message text.
 *
 * `instanceof CacheError` is decided by a brand on the prototype (`Symbol.for`), not by class
 * identity: it holds across two copies of the package in one app, and for `CacheAccessDeniedError`,
 * which must stay a Nest `ForbiddenException` (Nest answers 403 only for an `HttpException`).
 * `instanceof` a subclass is the ordinary prototype check.
 */
export abstract class CacheError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  static override [Symbol.hasInstance]<T>(this: abstract new (...args: any[]) => T, value: unknown): value is T {
    if ((this as unknown) !== CacheError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [CACHE_ERROR]?: unknown })[CACHE_ERROR] === true;
  }
}

const CACHE_ERROR = Symbol.for('nest-cachekit.CacheError');

/** Brands a class that cannot extend `CacheError` (it must extend a framework's class) as one. */
export function brandAsCacheError(type: abstract new (...args: any[]) => Error & { readonly code: string }): void {
  Object.defineProperty(type.prototype, CACHE_ERROR, { value: true });
}

brandAsCacheError(CacheError);
