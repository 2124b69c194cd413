import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { CacheAdminModule, CacheModule } from 'nest-cachekit';
import { CachePrometheusModule } from 'nest-cachekit/prometheus';
import { DemoAuthMiddleware } from './demo-auth/demo-auth.middleware';
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
    // The cache's nest_cachekit_* metrics, in prom-client's global registry; GET /metrics serves it.
    CachePrometheusModule.forRoot(),
    PrometheusModule.register(),
    TerminusModule,
    // The guarded admin API at /cache/admin: editors may clear and warm "tracks", cache-admins everything.
    CacheAdminModule.register({ roles: ['cache-admin', 'editor'] }),
  ],
  controllers: [TracksController, UsersController, RecommendationsController, CacheStatsController, HealthController],
  providers: [CatalogRepository, TracksService, UsersService, RecommendationsService],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DemoAuthMiddleware).forRoutes('{*splat}');
  }
}
