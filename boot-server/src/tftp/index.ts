// The read-only TFTP server of the boot-server (issue 4). See server.ts for the entry point.
export { DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_CLIENT, TftpServer, type TftpServerOptions } from './server.js';
export { VirtualFiles, type VirtualFileProvider, type VirtualFileRequest, type VirtualFileSource, type VirtualContent } from './virtual-files.js';
export { createTftpMetrics, type TftpMetrics } from './metrics.js';
export { MTU_1500_BLKSIZE } from './options.js';
