import { SetMetadata } from '@nestjs/common';

export const WARMUP_METADATA = 'nest-cachekit:warmup';

export interface WarmupOptions {
  /** Namespace the returned entries go to (default: the default namespace). */
  namespace?: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Run before the app accepts traffic (default), or in the background after start-up. */
  blocking?: boolean;
}

/**
 * Marks a provider method that fills the cache at application bootstrap. The method may return the
 * entries to store (`{ key, value, ttl?, tags? }[]`, written with one `mset`), or the number of
 * entries it stored itself. Found at start-up by `WarmupService` through Nest's DiscoveryService.
 */
export const Warmup = (options: WarmupOptions = {}): MethodDecorator => SetMetadata(WARMUP_METADATA, options);
