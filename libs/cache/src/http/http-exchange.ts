import { IncomingMessage, ServerResponse } from 'node:http';

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

  /** Whether the request carries a body (a non-zero `Content-Length`, or `Transfer-Encoding`). */
  hasBody(): boolean {
    const length = this.raw.headers?.['content-length'];
    return (length !== undefined && length !== '0') || this.raw.headers?.['transfer-encoding'] !== undefined;
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

/**
 * From now on, if `Set-Cookie` is set on the response before its headers go out (by anything:
 * `express-session` and other `on-headers` users set cookies only then, Fastify `onSend` hooks
 * pass them to `writeHead`), its `Cache-Control` becomes `private, no-store`, so that no shared
 * cache downstream stores one client's cookie for everyone.
 */
export function keepCookiesPrivate(exchange: HttpExchange): void {
  const res = (exchange.fastify ? exchange.response.raw : exchange.response) as ServerResponse;
  const { setHeader, appendHeader, writeHead } = res;
  if (typeof setHeader !== 'function' || typeof writeHead !== 'function') return;
  if (exchange.setsCookie()) exchange.setResponseHeader('cache-control', PRIVATE);
  const privatise = (): void => {
    if (res.getHeader('cache-control') !== undefined) setHeader.call(res, 'cache-control', PRIVATE);
  };
  res.setHeader = function (this: ServerResponse, name: string, value: any) {
    const result = setHeader.call(this, name, value);
    if (name.toLowerCase() === 'set-cookie') privatise();
    return result;
  };
  if (typeof appendHeader === 'function') {
    res.appendHeader = function (this: ServerResponse, name: string, value: any) {
      const result = appendHeader.call(this, name, value);
      if (name.toLowerCase() === 'set-cookie') privatise();
      return result;
    };
  }
  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: any[]) {
    // Fastify passes the reply's headers here (lower-case names); they win over the raw ones.
    const given = rest.find((arg) => typeof arg === 'object' && arg !== null && !Array.isArray(arg)) as Record<string, unknown> | undefined;
    if (res.getHeader('set-cookie') !== undefined || given?.['set-cookie'] !== undefined) {
      privatise();
      if (given?.['cache-control'] !== undefined) given['cache-control'] = PRIVATE;
    }
    return writeHead.call(this, statusCode, ...rest);
  } as ServerResponse['writeHead'];
}

const PRIVATE = 'private, no-store';

/** The description of the symbol under which `@fastify/cookie` keeps a reply's pending cookies. */
const FASTIFY_COOKIE_JAR = 'fastify.reply.setCookies';
