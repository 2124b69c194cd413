import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Put, Query, UseInterceptors } from '@nestjs/common';
import { CacheInterceptor, CacheRoute } from 'nest-cachekit';
import { parseId } from '../catalog/parse-id';
import { CatalogRepository, Track } from '../catalog/catalog.repository';
import { TracksService } from './tracks.service';

@Controller()
@UseInterceptors(CacheInterceptor)
export class TracksController {
  constructor(
    private readonly tracks: TracksService,
    private readonly catalog: CatalogRepository,
  ) {}

  @Get('tracks/:id')
  async find(@Param('id') id: string): Promise<Track> {
    const track = await this.tracks.find(parseId(id, 'track id'));
    if (track === null) throw new NotFoundException(`No track ${id}`);
    return track;
  }

  @Put('tracks/:id')
  async rename(@Param('id') id: string, @Body() body: { title?: unknown }): Promise<Track> {
    if (typeof body?.title !== 'string' || body.title.length === 0 || body.title.length > 200) {
      throw new BadRequestException('title must be a string of 1-200 characters');
    }
    const track = await this.tracks.rename(parseId(id, 'track id'), body.title);
    if (track === null) throw new NotFoundException(`No track ${id}`);
    return track;
  }

  @Get('artists/:artist/tracks')
  byArtist(@Param('artist') artist: string): Promise<Track[]> {
    return this.tracks.byArtist(parseId(artist, 'artist'));
  }

  @Post('artists/:artist/refresh')
  @HttpCode(204)
  async artistChanged(@Param('artist') artist: string): Promise<void> {
    await this.tracks.artistChanged(parseId(artist, 'artist'));
  }

  @Post('catalog/reload')
  @HttpCode(204)
  async reloadCatalog(): Promise<void> {
    await this.tracks.reloadCatalog();
  }

  /** The whole response is cached by the interceptor; only `limit` selects a variant. */
  @Get('charts')
  @CacheRoute({ namespace: 'tracks', ttl: '30s', query: ['limit'] })
  charts(@Query('limit') limit?: string): Promise<{ track: Track; plays: number }[]> {
    const n = limit === undefined ? 10 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 50) throw new BadRequestException('limit must be an integer from 1 to 50');
    return this.catalog.charts(n);
  }
}
