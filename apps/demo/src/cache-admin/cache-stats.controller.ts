import { Controller, Get } from '@nestjs/common';
import { CacheService, NamespaceStats } from 'nest-cachekit';

/** Read-only cache figures; the guarded admin API (invalidation, warm-up) comes with RBAC. */
@Controller('cache')
export class CacheStatsController {
  constructor(private readonly cache: CacheService) {}

  @Get('stats')
  stats(): NamespaceStats[] {
    return this.cache.stats();
  }
}
