/**
 * One Nest app on either HTTP adapter, and one way to send it requests: supertest on Express,
 * Fastify's `inject()` on Fastify. The HTTP suites run the same cases on both adapters with it.
 */
import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';

export type HttpAdapterName = 'express' | 'fastify';
export const HTTP_ADAPTERS: readonly HttpAdapterName[] = ['express', 'fastify'];

export interface HttpAnswer {
  status: number;
  /** Lower-case names; a header sent twice (Set-Cookie) is an array. */
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The JSON body, or undefined when the body is empty or not JSON. */
  body: any;
}

export interface HttpRequest {
  method?: 'GET' | 'HEAD' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** Sent as is (set a content type in `headers`). */
  body?: string;
}

export interface HttpApp {
  readonly adapter: HttpAdapterName;
  readonly app: INestApplication;
  send(req: HttpRequest | string): Promise<HttpAnswer>;
  close(): Promise<void>;
}

/**
 * Builds, configures (before `init`, e.g. `app.enableVersioning`) and starts an app on `adapter`.
 * Express apps get `configure` after the global pipes and middleware Nest adds by default.
 */
export async function createHttpApp(
  adapter: HttpAdapterName,
  metadata: ModuleMetadata,
  configure?: (app: INestApplication) => void,
): Promise<HttpApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app: INestApplication = adapter === 'fastify'
    ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
    : moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return {
    adapter,
    app,
    send: (req) => send(adapter, app, typeof req === 'string' ? { url: req } : req),
    close: () => app.close(),
  };
}

async function send(adapter: HttpAdapterName, app: INestApplication, req: HttpRequest): Promise<HttpAnswer> {
  const method = req.method ?? 'GET';
  if (adapter === 'fastify') {
    const res = await (app as NestFastifyApplication).inject({ method, url: req.url, headers: req.headers ?? {}, ...(req.body !== undefined && { payload: req.body }) });
    return answer(res.statusCode, res.headers as HttpAnswer['headers'], res.body);
  }
  const agent = request(app.getHttpServer());
  let pending = method === 'HEAD' ? agent.head(req.url) : method === 'POST' ? agent.post(req.url) : agent.get(req.url);
  for (const [name, value] of Object.entries(req.headers ?? {})) pending = pending.set(name, value);
  if (req.body !== undefined) pending = pending.send(req.body);
  // The raw text, whatever the content type (supertest parses only some).
  const res = await pending.buffer(true).parse((response, callback) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => callback(null, text));
  });
  return answer(res.status, res.headers as HttpAnswer['headers'], typeof res.body === 'string' ? res.body : '');
}

function answer(status: number, headers: HttpAnswer['headers'], text: string): HttpAnswer {
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, headers, text, body };
}

/** Sets a response header on an Express response or a Fastify reply (both have `header(name, value)`). */
export function setResponseHeader(res: { header(name: string, value: string): unknown }, name: string, value: string): void {
  res.header(name, value);
}

/** Resolves once `condition()` holds, checking at most `attempts` times, 5 ms apart; throws otherwise. */
export async function until(condition: () => boolean, what: string, attempts = 400): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A promise the test releases by hand: handlers wait on it so that requests overlap for certain. */
export class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  open(): void {
    this.release();
  }
}
