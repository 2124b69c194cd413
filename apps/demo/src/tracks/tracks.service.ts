import { Injectable } from '@nestjs/common';
import { CacheNamespace, InjectCache } from 'nest-cachekit';
import { CatalogRepository, Track } from '../catalog/catalog.repository';

@Injectable()
export class TracksService {
  constructor(
    private readonly catalog: CatalogRepository,
    @InjectCache('tracks') private readonly cache: CacheNamespace<Track | null>,
  ) {}

  /** Track details; unknown ids are cached too (as null, for a minute) so that probing them stays cheap. */
  async find(id: string): Promise<Track | null> {
    const cached = await this.cache.get(`track:${id}`);
    if (cached !== undefined) return cached;
    const track = await this.catalog.findTrack(id);
    await this.cache.set(`track:${id}`, track, track === null ? { ttl: '1m' } : undefined);
    return track;
  }
}
