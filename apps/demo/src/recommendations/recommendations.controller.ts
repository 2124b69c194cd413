import { Controller, Get, Param } from '@nestjs/common';
import { Track } from '../catalog/catalog.repository';
import { parseId } from '../catalog/parse-id';
import { RecommendationsService } from './recommendations.service';

@Controller('users/:id/recommendations')
export class RecommendationsController {
  constructor(private readonly recommendations: RecommendationsService) {}

  @Get()
  forUser(@Param('id') id: string): Promise<Track[]> {
    return this.recommendations.forUser(parseId(id, 'user id'));
  }
}
