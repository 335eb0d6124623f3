import type { ToolSpec } from '../types';
import { pgrep, pidof, sysctl, watch } from './procps/ctl';
import { free, top, uptime, vmstat, w } from './procps/mem';
import { ps } from './procps/ps';

/**
 * The procps-ng 4.0.2 tools of Debian 12: ps, top, free, uptime, vmstat, w,
 * pgrep, pkill, pidof, sysctl, watch. Each renders from the files the real
 * one reads (/proc/<pid>/stat, status, cmdline, /proc/meminfo, /proc/stat,
 * /proc/uptime, /proc/loadavg, /proc/vmstat, /proc/sys, /etc/passwd).
 */
export const PROCPS_TOOLS: ToolSpec[] = [
  { name: 'ps', dir: '/usr/bin', run: ps },
  { name: 'top', dir: '/usr/bin', run: top },
  { name: 'free', dir: '/usr/bin', run: free },
  { name: 'uptime', dir: '/usr/bin', run: uptime },
  { name: 'vmstat', dir: '/usr/bin', run: vmstat },
  { name: 'w', dir: '/usr/bin', run: w },
  { name: 'pgrep', dir: '/usr/bin', run: pgrep },
  { name: 'pkill', dir: '/usr/bin', run: pgrep },
  { name: 'pidof', dir: '/usr/bin', run: pidof },
  { name: 'sysctl', dir: '/usr/sbin', run: sysctl },
  { name: 'watch', dir: '/usr/bin', run: watch },
];
