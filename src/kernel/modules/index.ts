/**
 * Kernel modules: the 6.1 module tree (registry), the loader state on
 * k.modules (Modules), the kmod tools (modprobe/insmod/rmmod/lsmod/modinfo)
 * and the /proc/modules and /sys/module views.
 */
export { insmod, lsmod, modinfo, modprobe, probeList, rmmod, type CmdResult } from './kmod';
export { type InitState, type LabFileRef, type LoadedModule, type ModuleHook, Modules, type ModulesState, moduleAddr } from './modules';
export { type LabFile, type LabManifest, type LabMessage, type LabParam, type LabValidation, validateLabManifest } from './lab';
export { type ModprobeConfig, readConfig } from './config';
export { MODULE_DIR, type ModuleInfo, registry, resolveName } from './registry';
export { kernfsOrder, TAINT, taintLetters } from './taint';
export { modulesProcEntries, moduleSysfsDir, moduleSysfsEntries, renderModuleKallsyms, renderProcModules } from './views';
