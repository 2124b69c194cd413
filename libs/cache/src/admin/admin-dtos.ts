import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const NAMESPACE_MESSAGE = 'namespace must be 1-64 letters, digits, "_", "-" or ".", starting with a letter or digit';

/* Bodies of the admin routes. Keys travel in bodies, not in URLs, so that they stay out of access logs. */

export class NamespaceTargetDto {
  @IsString() @Matches(NAMESPACE, { message: NAMESPACE_MESSAGE })
  namespace!: string;
}

export class InvalidateKeyDto extends NamespaceTargetDto {
  @IsString() @IsNotEmpty() @MaxLength(65_536)
  key!: string;
}

export class InvalidateTagDto extends NamespaceTargetDto {
  @IsString() @IsNotEmpty() @MaxLength(256)
  tag!: string;
}

export class WarmupRequestDto {
  @IsOptional() @IsString() @Matches(NAMESPACE, { message: NAMESPACE_MESSAGE })
  namespace?: string;
}
