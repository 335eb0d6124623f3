import { boot, wr, rd } from '../src/kernel/trace/testing';
const k = boot();
wr(k, 'set_graph_function', 'vfs_read');
wr(k, 'current_tracer', 'function_graph');
wr(k, 'trace', '');
const { Userspace } = require('../src/kernel/userspace/runtime');
const us = new Userspace(k);
us.exec({ command: 'cat /proc/version > /dev/null' }, true).runToEnd();
console.log(rd(k, 'trace').split('\n').slice(0, 60).join('\n'));
