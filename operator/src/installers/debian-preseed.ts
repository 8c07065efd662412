// Debian's installer (d-i) with a preseed file: the template's `preseed` field renders the host's answers; anvil
// validates them (debian-preseed-file.ts), adds its report hooks (debian-preseed-hooks.ts) and serves the file as
// text/plain at the host's tokenised URL. The iPXE boot loads the netboot kernel and initrd and tells d-i where its
// answers are (url=, auto=true priority=critical: fetch them after the network is up, ask nothing) and where to send
// its log (log_host=/log_port=: the boot-server's syslog port turns main-menu's log into progress events).
import { DEFAULT_SYSLOG_PORT, PRESEED_ROUTE } from '@anvil/core/bootconfig';
import { stageOf, verdictOf } from '@anvil/core/install';
import { RenderError } from '../render/errors.js';
import { MAX_KERNEL_CMDLINE } from '../render/kernel-args.js';
import { ProblemCollector } from './collect-problems.js';
import { checkPreseed, parsePreseed, type PreseedAnswer } from './debian-preseed-file.js';
import { appendCommand, postEventCommand, PRESEED_FINISH_EVENT, PRESEED_START_EVENT } from './debian-preseed-hooks.js';
import type { Installer, InstallerOutput, InstallerRenderInput } from './types.js';

/** Kernel arguments anvil sets itself (url= is d-i's alias of preseed/url, auto= of auto-install/enable). */
const ANVIL_ARGS = ['auto', 'auto-install/enable', 'priority', 'debconf/priority', 'url', 'preseed/url', 'netcfg/get_hostname', 'netcfg/get_domain'] as const;

export const debianPreseed: Installer = {
  kind: 'debian-preseed',
  fields: ['preseed', 'kernelArgs'],
  requiredFields: ['preseed'],
  served: [{ field: 'preseed', path: PRESEED_ROUTE.replace(':mac', '<mac>').replace(':token', '<token>'), contentType: 'text/plain' }],
  allowsIso: false,

  render({ outputs, urls, host }: InstallerRenderInput): InstallerOutput {
    if (!urls.preseedURL) throw new RenderError('context', [{ message: 'no URL to serve the preseed file at was given (anvil.preseedURL)' }]);
    const problems = new ProblemCollector();
    const text = outputs.preseed ?? '';
    const answers = problems.attempt(() => parsePreseed(text));
    if (answers) problems.attempt(() => checkPreseed(answers));
    const kernelArgs = problems.attempt(() => preseedKernelArgs(outputs.kernelArgs, { preseedURL: urls.preseedURL!, bootServerURL: urls.bootServerURL, hostname: host.hostname }));
    problems.throwIfAny();
    return { files: { installer: 'debian-preseed', preseed: withReportHooks(text, answers!, urls.webhookURL) }, kernelArgs: kernelArgs! };
  },

  // the late command's finish of debian-installer/install is the top-level verdict; d-i's steps (syslog) are below it
  normalize: (event) => ({ stage: stageOf(event), verdict: verdictOf(event) }),
};

/** The file with the template's own early and late commands replaced by one line each: theirs, then anvil's report. */
export function withReportHooks(text: string, answers: readonly PreseedAnswer[], webhookURL: string): string {
  const hooks = answers.filter((a) => a.question === 'preseed/early_command' || a.question === 'preseed/late_command');
  const dropped = new Set(hooks.flatMap((a) => Array.from({ length: a.endLine - a.line + 1 }, (_, i) => a.line + i)));
  const own = (question: string): string | undefined => hooks.filter((a) => a.question === question).at(-1)?.value;
  const kept = text.split('\n').filter((_, i) => !dropped.has(i + 1));
  while (kept.length && kept.at(-1)!.trim() === '') kept.pop();
  return [
    ...kept,
    '',
    '# added by anvil: report the install (early: started, late: finished) to anvil, after the template\'s own commands',
    `d-i preseed/early_command string ${appendCommand(own('preseed/early_command'), postEventCommand(webhookURL, PRESEED_START_EVENT))}`,
    `d-i preseed/late_command string ${appendCommand(own('preseed/late_command'), postEventCommand(webhookURL, PRESEED_FINISH_EVENT))}`,
    '',
  ].join('\n');
}

export interface PreseedKernelArgsOptions {
  preseedURL: string;
  bootServerURL: string;
  /** The host's hostname; a fully qualified one gives the domain too. */
  hostname: string;
}

/**
 * The template's kernel arguments (rendered) with anvil's, inserted before any "---" (what follows it is copied to the
 * installed system). log_host/log_port and interface are anvil's defaults, kept when the template sets its own.
 */
export function preseedKernelArgs(rendered: string | undefined, options: PreseedKernelArgsOptions): string {
  const fail = (message: string): never => {
    throw new RenderError('validation', [{ field: 'kernelArgs', message }]);
  };
  const text = (rendered ?? '').replace(/[\t\r\n]+/g, ' ');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) fail('kernel arguments must not contain control characters');
  const args = text.split(' ').filter((a) => a !== '');
  const sets = (name: string): boolean => args.some((a) => a === name || a.startsWith(`${name}=`));
  for (const name of ANVIL_ARGS) if (sets(name)) fail(`kernel arguments must not set ${name}: anvil sets it for the host (${ANVIL_ARGS.join(', ')})`);
  const [name, ...domain] = options.hostname.split('.');
  const anvil = [
    'auto=true',
    'priority=critical',
    `url=${options.preseedURL}`,
    ...(sets('interface') ? [] : ['interface=auto']),
    `netcfg/get_hostname=${name}`,
    // an empty domain is an answer too: d-i then asks nothing (a DHCP-given domain still applies)
    `netcfg/get_domain=${domain.join('.')}`,
    ...(sets('log_host') ? [] : [`log_host=${new URL(options.bootServerURL).hostname.replace(/^\[(.*)\]$/, '$1')}`]),
    ...(sets('log_port') ? [] : [`log_port=${DEFAULT_SYSLOG_PORT}`]),
  ];
  const separator = args.indexOf('---');
  const line = (separator < 0 ? [...args, ...anvil] : [...args.slice(0, separator), ...anvil, ...args.slice(separator)]).join(' ');
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > MAX_KERNEL_CMDLINE) fail(`the kernel command line is ${bytes} bytes long (at most ${MAX_KERNEL_CMDLINE})`);
  return line;
}
