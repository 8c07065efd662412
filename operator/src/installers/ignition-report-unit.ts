// The one-shot systemd unit anvil adds to every Ignition config: once the system has booted (started with
// multi-user.target, once the network is online), it posts the install's verdict to the host's webhook, the same top-level finish event anvil's test
// installer sends, so the boot-server's verdict rule needs nothing per kind. Ignition has no progress of its own to
// report before that: it runs in the initramfs, where a failure stops the boot (the host then times out).
import type { InstallerEvent } from '@anvil/core/install';

export const REPORT_UNIT_NAME = 'anvil-report-finish.service';

/** The event the unit posts: the install's top-level finish, from Ignition. */
export const IGNITION_FINISH_EVENT: Required<Pick<InstallerEvent, 'name' | 'event_type' | 'result' | 'origin' | 'description'>> = {
  name: 'anvil/install/complete',
  event_type: 'finish',
  result: 'SUCCESS',
  origin: 'ignition',
  description: 'the system configured by Ignition has booted',
};

/** systemd expands % specifiers and $ variables in ExecStart= (also inside quotes); anvil's URLs are escaped for it. */
const systemdLiteral = (s: string): string => s.replaceAll('%', '%%').replaceAll('$', '$$$$');

/**
 * The unit's text. curl retries until the boot-server takes the event (it answers 2xx only once the event is stored);
 * the unit stays active after it, so it posts once per boot, and on a PXE-booted (live) system every boot is an
 * install that reports. `webhookURL` is anvil's own URL (no quote, space or line break: it is built, not rendered).
 */
export function reportUnit(webhookURL: string): string {
  if (/["'\s\\]/.test(webhookURL)) throw new Error('the webhook URL must not contain quotes, backslashes or white space');
  const body = systemdLiteral(JSON.stringify(IGNITION_FINISH_EVENT));
  return [
    '[Unit]',
    'Description=Report the finished install to anvil',
    'Wants=network-online.target',
    // not After=multi-user.target: the target orders itself after the units it wants, which would be a cycle
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=/usr/bin/curl --silent --show-error --fail --retry 30 --retry-delay 10 --retry-all-errors --max-time 30 -H 'Content-Type: application/json' --data '${body}' ${systemdLiteral(webhookURL)}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
