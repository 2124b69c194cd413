import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/* class-validator shapes of the `rbac` and `audit` options (the role map is checked by hand). */

export class RbacOptionsDto {
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  @IsOptional() @IsObject()
  roles?: object;

  @IsOptional() @IsArray() @ArrayMaxSize(256) @IsString({ each: true }) @IsNotEmpty({ each: true })
  anonymousRoles?: string[];

  @IsOptional() @IsObject()
  system?: object;

  @IsOptional() @IsIn(['anonymous', 'system'], { message: 'must be "anonymous" or "system"' })
  unscopedPrincipal?: string;

  @IsOptional()
  principalResolver?: unknown;
}

export class SystemPrincipalDto {
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(256)
  id?: string;

  @IsOptional() @IsArray() @IsString({ each: true }) @IsNotEmpty({ each: true })
  roles?: string[];
}

export class AuditOptionsDto {
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  sink?: unknown;

  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' })
  keyHashSecret?: string;
}
