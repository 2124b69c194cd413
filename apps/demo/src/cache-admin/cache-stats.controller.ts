import { Controller, Get } from '@nestjs/common';
import { CacheService, NamespaceStats } from 'nest-cachekit';

/** Read-only cache figures (counts only); the guarded admin API is at /cache/admin (CacheAdminModule). */
@Controller('cache')
export class CacheStatsController {
  constructor(private readonly cache: CacheService) {}

  @Get('stats')
  stats(): NamespaceStats[] {
    return this.cache.stats();
  }
}
