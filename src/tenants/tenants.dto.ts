import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';

export class TenantLimitsDto {
  @ApiPropertyOptional({ example: 20, description: 'Concurrent live sessions', minimum: 1, maximum: 100000 })
  @IsOptional() @IsInt() @Min(1) @Max(100000) maxSessions?: number;

  @ApiPropertyOptional({ example: 86400, description: 'Ceiling on a session TTL, seconds', minimum: 60 })
  @IsOptional() @IsInt() @Min(60) @Max(31 * 24 * 3600) maxTtlSeconds?: number;

  @ApiPropertyOptional({ example: 600, description: 'Requests per minute across the tenant keys', minimum: 1 })
  @IsOptional() @IsInt() @Min(1) @Max(10_000_000) requestsPerMinute?: number;
}

export class CreateTenantDto {
  @ApiProperty({ example: 'os-course-2026', description: 'Unique tenant name' })
  @IsString() @MaxLength(64) @Matches(/^[a-z0-9][a-z0-9_.-]*$/, { message: 'name must be lowercase letters, digits, . _ or -' })
  name!: string;

  @ApiPropertyOptional({ type: TenantLimitsDto })
  @IsOptional() @ValidateNested() @Type(() => TenantLimitsDto) limits?: TenantLimitsDto;
}

export class CreateApiKeyDto {
  @ApiPropertyOptional({ example: 'autograder', description: 'A label to tell keys apart' })
  @IsOptional() @IsString() @MaxLength(128) label?: string;
}

export class TenantLimitsView {
  @ApiProperty({ example: 20 }) maxSessions!: number;
  @ApiProperty({ example: 86400 }) maxTtlSeconds!: number;
  @ApiProperty({ example: 600 }) requestsPerMinute!: number;
}

export class TenantView {
  @ApiProperty({ example: '3f1c2f8e-6a65-4b7e-9b2a-2f0b7b0f9c11' }) id!: string;
  @ApiProperty({ example: 'os-course-2026' }) name!: string;
  @ApiProperty({ type: TenantLimitsView }) limits!: TenantLimitsView;
  @ApiProperty({ example: '2026-11-27T10:00:00.000Z' }) createdAt!: string;
}

export class ApiKeyView {
  @ApiProperty({ example: '0b5e2b8e-3c1d-4f7a-8e8e-5b0c9a3f2d10' }) id!: string;
  @ApiProperty({ example: '3f1c2f8e-6a65-4b7e-9b2a-2f0b7b0f9c11' }) tenantId!: string;
  @ApiProperty({ example: 'klk_AbC123', description: 'First characters of the key' }) prefix!: string;
  @ApiPropertyOptional({ example: 'autograder', nullable: true }) label!: string | null;
  @ApiProperty({ example: '2026-11-27T10:00:00.000Z' }) createdAt!: string;
}

export class IssuedApiKeyView extends ApiKeyView {
  @ApiProperty({ example: 'klk_AbC123…', description: 'The key itself: shown once, stored only as a hash' }) key!: string;
}
