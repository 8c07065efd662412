// The syslog receiver's flags (a group of the boot-server's, see ../config.ts). Off by default: a second boot-server
// on the same machine (tests, a demo) must not fight over a fixed port; the Debian installer is told log_port=5514
// unless its template says otherwise (docs/installers.md).
import { int, text } from '@anvil/core/config';

export const SYSLOG_FLAGS = {
  syslogHost: text({ name: 'syslog-host', env: 'SYSLOG_HOST', value: 'ADDR', default: '0.0.0.0', help: "bind address of the UDP syslog receiver (Debian installer progress, log_host=)" }),
  syslogPort: int({
    name: 'syslog-port',
    env: 'SYSLOG_PORT',
    label: 'syslog port',
    default: 0,
    min: 0,
    max: 65535,
    help: 'UDP port receiving d-i\'s syslog (debian-preseed installs tell d-i log_port=5514); 0 disables the receiver',
  }),
} as const;
