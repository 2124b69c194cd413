import { IsIn, IsInt, IsString, Matches, MaxLength, Min } from 'class-validator';

/** What a cached recommendation must look like when read back from Redis (`valueSchema`). */
export class TrackDto {
  @IsString() @Matches(/^t\d{1,4}$/)
  id!: string;

  @IsString() @MaxLength(200)
  title!: string;

  @IsString() @MaxLength(100)
  artist!: string;

  @IsIn(['jazz', 'soul', 'techno', 'folk', 'hip-hop', 'classical'])
  genre!: string;

  @IsInt() @Min(1)
  durationSec!: number;
}
