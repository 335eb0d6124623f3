export * from './nr';
export * from './syscalls';
