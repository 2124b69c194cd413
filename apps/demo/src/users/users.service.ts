import { Injectable, NotFoundException } from '@nestjs/common';
import { CacheEvict, Cacheable } from 'nest-cachekit';
import { CatalogRepository, TrackPlays } from '../catalog/catalog.repository';

@Injectable()
export class UsersService {
  constructor(private readonly catalog: CatalogRepository) {}

  @Cacheable({ namespace: 'users', key: 'user:{userId}:top-tracks' })
  async topTracks(userId: string): Promise<TrackPlays[]> {
    this.assertUser(userId);
    return this.catalog.topTracks(userId);
  }

  /** A new play changes the user's top tracks and recommendations: both cached answers go. */
  @CacheEvict({ namespace: 'users', key: 'user:{userId}:top-tracks' })
  @CacheEvict({ namespace: 'recommendations', key: 'user:{userId}:recommendations' })
  async recordPlay(userId: string, trackId: string): Promise<TrackPlays> {
    this.assertUser(userId);
    const played = await this.catalog.recordPlay(userId, trackId);
    if (played === null) throw new NotFoundException(`No track ${trackId}`);
    return played;
  }

  private assertUser(userId: string): void {
    if (!this.catalog.userExists(userId)) throw new NotFoundException(`No user ${userId}`);
  }
}
