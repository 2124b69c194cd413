import { BadRequestException, Body, Controller, Get, Param, Post } from '@nestjs/common';
import { TrackPlays } from '../catalog/catalog.repository';
import { parseId } from '../catalog/parse-id';
import { UsersService } from './users.service';

@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get(':id/top-tracks')
  topTracks(@Param('id') id: string): Promise<TrackPlays[]> {
    return this.users.topTracks(parseId(id, 'user id'));
  }

  @Post(':id/plays')
  recordPlay(@Param('id') id: string, @Body() body: { trackId?: unknown }): Promise<TrackPlays> {
    if (typeof body?.trackId !== 'string') throw new BadRequestException('trackId must be a string');
    return this.users.recordPlay(parseId(id, 'user id'), parseId(body.trackId, 'trackId'));
  }
}
