import { Module } from '@nestjs/common';
import { CacheModule } from 'nest-cachekit';
import { CacheStatsController } from './cache-admin/cache-stats.controller';
import { CatalogRepository } from './catalog/catalog.repository';
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
  ],
  controllers: [TracksController, UsersController, RecommendationsController, CacheStatsController],
  providers: [CatalogRepository, TracksService, UsersService, RecommendationsService],
})
export class AppModule {}
