import { IncomingMessage } from 'node:http';

/** A response header's value as Node and both adapters report it. */
export type HeaderValue = string | number | readonly string[];

/**
 * The request and response of one HTTP call, read and written the same way on Express and on
 * Fastify. Express hands Nest Node's own request and response (extended); Fastify hands its
 * `Request` and `Reply`, which wrap them as `raw` and have their own header API (`reply.header`,
 * `reply.code`, `reply.sent`). Header names are lower case.
 */
export class HttpExchange {
  /** The Node request: Express's request itself, Fastify's `request.raw`. */
  readonly raw: IncomingMessage;
  /** A Fastify `Reply` (it wraps the Node response as `raw` and sets its status with `code`). */
  readonly fastify: boolean;

  constructor(readonly request: any, readonly response: any) {
    this.fastify = typeof response?.code === 'function' && typeof response?.raw === 'object' && typeof request?.raw === 'object';
    this.raw = this.fastify ? request.raw : request;
  }

  get method(): string {
    return this.raw.method ?? '';
  }

  /** A request header (Node joins repeated ones, but keeps `set-cookie`-like ones as arrays: joined here). */
  requestHeader(name: string): string | undefined {
    const value = this.raw.headers?.[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  get status(): number {
    return this.response.statusCode ?? 200;
  }

  set status(code: number) {
    if (this.fastify) this.response.code(code);
    else this.response.status(code);
  }

  get headersSent(): boolean {
    return this.fastify ? Boolean(this.response.sent || this.response.raw?.headersSent) : Boolean(this.response.headersSent);
  }

  /** Every response header set so far (Fastify: the reply's and the raw response's). */
  responseHeaders(): Record<string, HeaderValue | undefined> {
    return { ...(this.response.getHeaders?.() ?? {}) };
  }

  responseHeader(name: string): HeaderValue | undefined {
    return this.response.getHeader?.(name) ?? undefined;
  }

  setResponseHeader(name: string, value: HeaderValue): void {
    if (this.fastify) this.response.header(name, value);
    else this.response.setHeader(name, value);
  }

  /**
   * Whether the response will set a cookie: a `Set-Cookie` header, or (Fastify) cookies that
   * `@fastify/cookie`'s `reply.setCookie` holds back until its `onSend` hook writes them.
   */
  setsCookie(): boolean {
    if (this.responseHeader('set-cookie') !== undefined) return true;
    if (!this.fastify) return false;
    for (const symbol of Object.getOwnPropertySymbols(this.response)) {
      if (symbol.description !== FASTIFY_COOKIE_JAR) continue;
      const jar = this.response[symbol];
      if (jar instanceof Map ? jar.size > 0 : jar !== null && jar !== undefined) return true;
    }
    return false;
  }
}

/** The description of the symbol under which `@fastify/cookie` keeps a reply's pending cookies. */
const FASTIFY_COOKIE_JAR = 'fastify.reply.setCookies';
