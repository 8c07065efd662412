// Flags every anvil process declares the same way.
import { LOG_LEVELS } from '../logging.js';
import { choice, text } from './flags.js';

export const kubeconfigFlag = () => text({ name: 'kubeconfig', env: 'KUBECONFIG', value: 'PATH', help: 'kubeconfig file; in-cluster config when unset' });

export const logLevelFlag = () =>
  choice({ name: 'log-level', env: 'LOG_LEVEL', value: 'LEVEL', label: 'log level', choices: LOG_LEVELS, default: 'info', help: `what to log: ${LOG_LEVELS.join('|')}` });
