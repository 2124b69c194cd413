import { Injectable, NotFoundException } from '@nestjs/common';
import { CacheNamespace, InjectCache } from 'nest-cachekit';
import { CatalogRepository, Track } from '../catalog/catalog.repository';

@Injectable()
export class RecommendationsService {
  constructor(
    private readonly catalog: CatalogRepository,
    @InjectCache('recommendations') private readonly cache: CacheNamespace<Track[]>,
  ) {}

  forUser(userId: string): Promise<Track[]> {
    if (!this.catalog.userExists(userId)) throw new NotFoundException(`No user ${userId}`);
    return this.cache.getOrSet(`user:${userId}:recommendations`, () => this.catalog.recommendations(userId), { ttl: '5m' });
  }
}
