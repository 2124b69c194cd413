import type { AbstractHttpAdapter } from '@nestjs/core';

/**
 * The demo's HTTP platform: Express by default, Fastify with `HTTP_ADAPTER=fastify`. The chosen
 * platform is loaded on demand, so the default demo needs no Fastify installed.
 */
export type DemoHttpAdapterName = 'express' | 'fastify';

/**
 * The largest request body either platform accepts: Express's JSON parser default (100 KiB), given
 * to Fastify too (its own default is 1 MiB), so that an oversized body is a 413 on both.
 */
export const DEMO_BODY_LIMIT_BYTES = 100 * 1024;

/** `HTTP_ADAPTER` from the environment; unset or empty means Express. */
export function demoHttpAdapterName(env: NodeJS.ProcessEnv): DemoHttpAdapterName {
  const value = env.HTTP_ADAPTER?.trim().toLowerCase() || 'express';
  if (value !== 'express' && value !== 'fastify') {
    throw new Error(`HTTP_ADAPTER must be "express" or "fastify", got "${env.HTTP_ADAPTER}"`);
  }
  return value;
}

export async function createDemoHttpAdapter(name: DemoHttpAdapterName): Promise<AbstractHttpAdapter> {
  if (name === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return new FastifyAdapter({ bodyLimit: DEMO_BODY_LIMIT_BYTES });
  }
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  return new ExpressAdapter();
}
