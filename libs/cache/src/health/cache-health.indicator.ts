import { Injectable } from '@nestjs/common';
import { BackendHealth } from '../backends/cache-backend.interface';
import { CacheRegistry } from '../cache-registry';

const DEFAULT_TIMEOUT_MS = 2_000;

/** The shape @nestjs/terminus expects from a health indicator: `{ [key]: { status, ...details } }`. */
export type CacheHealthResult = Record<string, { status: 'up' | 'down'; backends: Record<string, BackendHealth> }>;

/**
 * Health of every cache backend, for @nestjs/terminus (no import of it needed):
 *
 *   @Get('health') @HealthCheck()
 *   check() { return this.health.check([() => this.cache.check('cache')]); }
 *
 * Redis reports its PING latency and `used_memory`; the memory backend its entries and estimated
 * bytes per namespace and the process heap. Any backend down makes the result `down` (terminus then
 * answers 503). A check never waits longer than `timeoutMs`.
 */
@Injectable()
export class CacheHealthIndicator {
  constructor(private readonly registry: CacheRegistry) {}

  async check(key = 'cache', options: { timeoutMs?: number } = {}): Promise<CacheHealthResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const backends: Record<string, BackendHealth> = {};
    const checks = [...this.registry.backendFactories()].map(async ([name, factory]) => {
      backends[name] = typeof factory.health === 'function' ? await withTimeout(factory.health(), timeoutMs) : { status: 'up', checked: false };
    });
    await Promise.all(checks);
    const up = Object.values(backends).every((b) => b.status === 'up');
    return { [key]: { status: up ? 'up' : 'down', backends } };
  }
}

async function withTimeout(check: Promise<BackendHealth>, ms: number): Promise<BackendHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<BackendHealth>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'down', error: `no answer within ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([check.catch((error: unknown) => ({ status: 'down' as const, error: (error as Error)?.name ?? 'Error' })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
