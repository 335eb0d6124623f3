export { TaskDeath, type BehaviourTrigger, type FaultSite, type FaultTrigger, type LabBehaviour } from './contract';
export {
  Faults,
  TaskBlocked,
  type CrashCarry,
  type CrashRecord,
  type CrashType,
  type FaultsState,
  type PanicOptions,
  kmallocCache,
} from './faults';
export { faultsProcEntries } from './procfs';
export { handleSysrq, sysrqHelp, SYSRQ_DEFAULT, SYSRQ_ENABLE, type SysrqOptions } from './sysrq';
export { printTainted, taintLetters, TAINT_CHARS, TAINT_BIT } from './report';
