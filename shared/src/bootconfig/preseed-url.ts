// Where a host fetches its preseed file (installer: debian-preseed): below the boot-server, by boot MAC and install
// token, like the NoCloud seed. The operator puts this URL on the kernel command line (url=), the boot-server serves it.
// d-i's syslog goes to the boot-server's UDP syslog port (log_host=/log_port=), 5514 unless the template says otherwise.
import { macDashed } from './boot-config.js';

export const PRESEED_FILE = 'preseed.cfg';
/** The boot-server's route (express syntax). */
export const PRESEED_ROUTE = `/preseed/:mac/:token/${PRESEED_FILE}`;
/** The UDP port anvil names in log_port= unless the template sets its own (the boot-server's --syslog-port). */
export const DEFAULT_SYSLOG_PORT = 5514;

/** `<boot-server>/preseed/<mac with dashes>/<token>/preseed.cfg` */
export function preseedURL(bootServerURL: string, mac: string, token: string): string {
  return `${bootServerURL.replace(/\/+$/, '')}/preseed/${macDashed(mac)}/${token}/${PRESEED_FILE}`;
}
