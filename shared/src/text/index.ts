// Text helpers shared by the CLI and the dashboard: the unified line diff.
export { diffHunks, unifiedDiff } from './unified-diff.js';
