import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { CacheModule } from 'nest-cachekit';
import { CacheStatsController } from './cache-admin/cache-stats.controller';
import { CatalogRepository } from './catalog/catalog.repository';
import { HealthController } from './health/health.controller';
import { demoCacheOptions } from './demo-cache-options';
import { RecommendationsController } from './recommendations/recommendations.controller';
import { RecommendationsService } from './recommendations/recommendations.service';
import { TracksController } from './tracks/tracks.controller';
import { TracksService } from './tracks/tracks.service';
import { UsersController } from './users/users.controller';
import { UsersService } from './users/users.service';

@Module({
  imports: [
    CacheModule.forRootAsync({
      isGlobal: true,
      useFactory: () => demoCacheOptions(process.env),
      namespaces: ['users', 'tracks', 'recommendations'],
    }),
    // GET /metrics: prom-client's global registry, where the cache's nest_cachekit_* metrics live.
    PrometheusModule.register(),
    TerminusModule,
  ],
  controllers: [TracksController, UsersController, RecommendationsController, CacheStatsController, HealthController],
  providers: [CatalogRepository, TracksService, UsersService, RecommendationsService],
})
export class AppModule {}
