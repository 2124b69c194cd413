import { Injectable, NotFoundException } from '@nestjs/common';
import { CacheNamespace, InjectCache } from 'nest-cachekit';
import { CatalogRepository, TrackPlays } from '../catalog/catalog.repository';

@Injectable()
export class UsersService {
  constructor(
    private readonly catalog: CatalogRepository,
    @InjectCache('users') private readonly users: CacheNamespace<TrackPlays[]>,
    @InjectCache('recommendations') private readonly recommendations: CacheNamespace,
  ) {}

  topTracks(userId: string): Promise<TrackPlays[]> {
    this.assertUser(userId);
    return this.users.getOrSet(`user:${userId}:top-tracks`, () => this.catalog.topTracks(userId));
  }

  /** A new play changes the user's top tracks and recommendations: drop both cached answers. */
  async recordPlay(userId: string, trackId: string): Promise<TrackPlays> {
    this.assertUser(userId);
    const played = await this.catalog.recordPlay(userId, trackId);
    if (played === null) throw new NotFoundException(`No track ${trackId}`);
    await Promise.all([
      this.users.invalidate(`user:${userId}:top-tracks`),
      this.recommendations.invalidate(`user:${userId}:recommendations`),
    ]);
    return played;
  }

  private assertUser(userId: string): void {
    if (!this.catalog.userExists(userId)) throw new NotFoundException(`No user ${userId}`);
  }
}
