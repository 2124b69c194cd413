import { Injectable } from '@nestjs/common';
import { CacheEvict, CacheNamespace, CachePut, Cacheable, InjectCache, Warmup } from 'nest-cachekit';
import { CatalogRepository, Track } from '../catalog/catalog.repository';

const CHART_TOP_FIVE = ['t1', 't2', 't3', 't4', 't5'];

@Injectable()
export class TracksService {
  constructor(
    private readonly catalog: CatalogRepository,
    @InjectCache('tracks') private readonly cache: CacheNamespace<Track | null>,
  ) {}

  /** The charts' top five are asked for constantly: load them before the app takes traffic. */
  @Warmup({ namespace: 'tracks', priority: 10 })
  async warmCharts(): Promise<{ key: string; value: Track }[]> {
    const tracks = await Promise.all(CHART_TOP_FIVE.map((id) => this.catalog.findTrack(id)));
    return tracks.filter((t): t is Track => t !== null).map((track) => ({ key: `track:${track.id}`, value: track }));
  }

  /** An artist's tracks, tagged with the artist so that one invalidation drops every list about them. */
  @Cacheable({ namespace: 'tracks', key: 'artist:{artist}:tracks', tags: ['artist:{artist}'] })
  async byArtist(artist: string): Promise<Track[]> {
    return this.catalog.tracksByArtist(artist);
  }

  /** The artist's catalogue changed upstream. */
  @CacheEvict({ namespace: 'tracks', tags: ['artist:{0}'] })
  async artistChanged(_artist: string): Promise<void> {
    return undefined;
  }

  /** Writes through: the cached details are replaced by the renamed track (not cached when unknown). */
  @CachePut({ namespace: 'tracks', key: 'track:{id}', unless: (track: Track | null) => track === null })
  async rename(id: string, title: string): Promise<Track | null> {
    return this.catalog.renameTrack(id, title);
  }

  /** Drops every cached track and list (the catalogue was reloaded): a namespace clear, for `admin` on "tracks" only. */
  @CacheEvict({ namespace: 'tracks', allEntries: true })
  async reloadCatalog(): Promise<void> {
    return undefined;
  }

  /** Track details; unknown ids are cached too (as null, for a minute) so that probing them stays cheap. */
  async find(id: string): Promise<Track | null> {
    const cached = await this.cache.get(`track:${id}`);
    if (cached !== undefined) return cached;
    const track = await this.catalog.findTrack(id);
    await this.cache.set(`track:${id}`, track, track === null ? { ttl: '1m' } : undefined);
    return track;
  }
}
