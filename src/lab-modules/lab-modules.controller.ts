import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentTenant } from '../auth/decorators';
import type { Tenant } from '../database/entities';
import { LabModulesService, type LabModuleView } from './lab-modules.service';

const MANIFEST_EXAMPLE = {
  name: 'labmod',
  version: '1.0',
  license: 'GPL',
  description: 'A lab module that leaks memory and oopses on read',
  author: ['Course Staff <staff@example.edu>'],
  parameters: [{ name: 'debug', type: 'int', default: '0', perm: 0o644, description: 'debug level' }],
  depends: [],
  exportedSymbols: ['labmod_hello'],
  initMessages: [{ level: 6, text: 'labmod: loaded' }],
  exitMessages: [{ level: 6, text: 'labmod: unloaded' }],
  files: [{ fs: 'procfs', path: '/proc/labmod', mode: 0o444, content: 'hello\n' }],
  behaviours: [{ kind: 'null-deref', on: { read: '/proc/labmod' } }],
};

@ApiTags('lab-modules')
@ApiBearerAuth('tenant')
@Controller('v1/lab-modules')
export class LabModulesController {
  constructor(private readonly labs: LabModulesService) {}

  @Post()
  @ApiOperation({
    summary: "Register a lab module (a declarative manifest) loadable with insmod/modprobe in any of the tenant's sessions",
    description: 'Loading one taints the kernel as out-of-tree (O) and unsigned (E). An invalid manifest answers 400 INVALID_MANIFEST with every problem in `details`.',
  })
  @ApiBody({ schema: { type: 'object', example: MANIFEST_EXAMPLE } })
  @ApiCreatedResponse({ description: '{name, version, createdAt, updatedAt, manifest}' })
  create(@CurrentTenant() t: Tenant, @Body() body: Record<string, unknown>): Promise<LabModuleView> {
    return this.labs.create(t, body);
  }

  @Get()
  @ApiOperation({ summary: "List the tenant's lab modules" })
  @ApiOkResponse({ description: '[{name, version, createdAt, updatedAt, manifest}]' })
  list(@CurrentTenant() t: Tenant): Promise<LabModuleView[]> {
    return this.labs.list(t);
  }

  @Get(':name')
  @ApiParam({ name: 'name', example: 'labmod' })
  @ApiOperation({ summary: 'One lab module with its manifest' })
  @ApiOkResponse({ description: '{name, version, createdAt, updatedAt, manifest}' })
  get(@CurrentTenant() t: Tenant, @Param('name') name: string): Promise<LabModuleView> {
    return this.labs.get(t, name);
  }

  @Put(':name')
  @ApiParam({ name: 'name', example: 'labmod' })
  @ApiOperation({ summary: 'Replace a lab module (sessions that have it loaded keep the loaded version until rmmod)' })
  @ApiBody({ schema: { type: 'object', example: MANIFEST_EXAMPLE } })
  @ApiOkResponse({ description: '{name, version, createdAt, updatedAt, manifest}' })
  replace(@CurrentTenant() t: Tenant, @Param('name') name: string, @Body() body: Record<string, unknown>): Promise<LabModuleView> {
    return this.labs.replace(t, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiParam({ name: 'name', example: 'labmod' })
  @ApiOperation({ summary: 'Delete a lab module (sessions that have it loaded keep it until rmmod)' })
  @ApiNoContentResponse()
  async remove(@CurrentTenant() t: Tenant, @Param('name') name: string): Promise<void> {
    await this.labs.remove(t, name);
  }
}
