// The commands anvil adds to a preseed file so d-i reports the install to the host's webhook: preseed/early_command
// (run once the preseed file is loaded: the install has started) and preseed/late_command (run after the last step
// and before the reboot: the verdict). d-i's busybox wget cannot POST (no --post-data, no --header), so the request
// is written by busybox awk (CR LF from %c, no backslash for debconf or the shell to interpret) and sent with
// busybox nc; a failed post never stops the install.
import type { InstallerEvent } from '@anvil/core/install';
import { RenderError } from '../render/errors.js';

/** The top-level context of a Debian install: its start (early command) and its finish (late command, the verdict). */
export const D_I_INSTALL_EVENT = 'debian-installer/install';
export const PRESEED_ORIGIN = 'preseed';

export const PRESEED_START_EVENT: InstallerEvent = {
  name: D_I_INSTALL_EVENT,
  event_type: 'start',
  origin: PRESEED_ORIGIN,
  description: 'the Debian installer has loaded its preseed file',
};
export const PRESEED_FINISH_EVENT: InstallerEvent = {
  name: D_I_INSTALL_EVENT,
  event_type: 'finish',
  result: 'SUCCESS',
  origin: PRESEED_ORIGIN,
  description: 'the Debian installer has finished the installation',
};

/** The shell command (busybox ash, awk and nc of d-i) that posts `event` to `webhookURL` (http only). */
export function postEventCommand(webhookURL: string, event: InstallerEvent): string {
  const url = new URL(webhookURL);
  if (url.protocol !== 'http:') {
    throw new RenderError('context', [{ message: `debian-preseed reports over plain http (d-i has no TLS client for anvil's hooks), but the webhook URL is ${url.protocol}` }]);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port || '80';
  const path = `${url.pathname}${url.search}`;
  const body = JSON.stringify(event);
  // anvil builds these (never a template): the URL goes inside awk's double quotes, the body inside the shell's single quotes
  // eslint-disable-next-line no-control-regex
  const unsafe = [host, path, url.host].some((part) => /['"\\\s]/.test(part)) || /['\u0000-\u001f\u007f-\uffff]/.test(body);
  if (unsafe) throw new RenderError('context', [{ message: 'the webhook URL or event has characters the preseed hook cannot carry' }]);
  const request = [
    'BEGIN{r=sprintf("%c%c",13,10);',
    `h="POST ${path} HTTP/1.0" r "Host: ${url.host}" r "Content-Type: application/json" r "Content-Length: " length(ENVIRON["B"]) r "Connection: close" r r;`,
    'printf "%s%s",h,ENVIRON["B"]}',
  ].join('');
  return `B='${body}' awk '${request}' | nc -w 30 ${host} ${port} >/dev/null 2>&1 || true`;
}

/** The user's command (if any) followed by anvil's, as one preseed value. */
export const appendCommand = (own: string | undefined, anvil: string): string => (own?.trim() ? `${own.trim().replace(/;+\s*$/, '')}; ${anvil}` : anvil);
