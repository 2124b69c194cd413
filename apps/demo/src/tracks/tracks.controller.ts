import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { parseId } from '../catalog/parse-id';
import { Track } from '../catalog/catalog.repository';
import { TracksService } from './tracks.service';

@Controller('tracks')
export class TracksController {
  constructor(private readonly tracks: TracksService) {}

  @Get(':id')
  async find(@Param('id') id: string): Promise<Track> {
    const track = await this.tracks.find(parseId(id, 'track id'));
    if (track === null) throw new NotFoundException(`No track ${id}`);
    return track;
  }
}
