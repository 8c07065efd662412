// Where a host fetches its Ignition config: below the boot-server, by boot MAC and install token, like the NoCloud
// seed. The operator puts this URL on the kernel command line (ignition.config.url=), the boot-server serves it.
import { macDashed } from './boot-config.js';

/** The file name at the end of the path: `.ign` is what Ignition tooling and Matchbox users expect to see. */
export const IGNITION_CONFIG_FILE = 'config.ign';
/** The boot-server's route (express syntax). */
export const IGNITION_ROUTE = `/ignition/:mac/:token/${IGNITION_CONFIG_FILE}`;

/** `<boot-server>/ignition/<mac with dashes>/<token>/config.ign` */
export function ignitionConfigURL(bootServerURL: string, mac: string, token: string): string {
  return `${bootServerURL.replace(/\/+$/, '')}/ignition/${macDashed(mac)}/${token}/${IGNITION_CONFIG_FILE}`;
}
