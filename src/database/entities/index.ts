import { AdminToken } from './admin-token.entity';
import { ApiKey } from './api-key.entity';
import { CheckpointBlobRow, JournalRow, SessionEventRow, SessionRow, SnapshotRow } from './session.entity';
import { LabModuleRow } from './lab-module.entity';
import { Tenant } from './tenant.entity';

export { AdminToken, ApiKey, CheckpointBlobRow, JournalRow, LabModuleRow, SessionEventRow, SessionRow, SnapshotRow, Tenant };
export const ENTITIES = [Tenant, ApiKey, AdminToken, SessionRow, JournalRow, SessionEventRow, SnapshotRow, LabModuleRow, CheckpointBlobRow];
