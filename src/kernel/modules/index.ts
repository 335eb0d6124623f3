/**
 * Kernel modules: the 6.1 module tree (registry), the loader state on
 * k.modules (Modules), the kmod tools (modprobe/insmod/rmmod/lsmod/modinfo)
 * and the /proc/modules and /sys/module views.
 */
export { insmod, lsmod, modinfo, modprobe, probeList, rmmod, type CmdResult } from './kmod';
export { type InitState, type LoadedModule, type ModuleHook, Modules, type ModulesState, moduleAddr } from './modules';
export { MODULE_DIR, type ModuleInfo, registry, resolveName } from './registry';
export { kernfsOrder, TAINT, taintLetters } from './taint';
export { modulesProcEntries, moduleSysfsDir, moduleSysfsEntries, renderProcModules } from './views';
