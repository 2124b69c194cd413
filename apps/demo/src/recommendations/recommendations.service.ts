import { Injectable, NotFoundException } from '@nestjs/common';
import { Cacheable } from 'nest-cachekit';
import { CatalogRepository, Track } from '../catalog/catalog.repository';

@Injectable()
export class RecommendationsService {
  constructor(private readonly catalog: CatalogRepository) {}

  /** Empty lists are not cached: a new user's first plays should show up at once. */
  @Cacheable({ namespace: 'recommendations', key: 'user:{userId}:recommendations', ttl: '5m', unless: (tracks: Track[]) => tracks.length === 0 })
  async forUser(userId: string): Promise<Track[]> {
    if (!this.catalog.userExists(userId)) throw new NotFoundException(`No user ${userId}`);
    return this.catalog.recommendations(userId);
  }
}
