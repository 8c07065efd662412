// Ignition (spec v3: Flatcar Container Linux, Fedora CoreOS), booted the Flatcar PXE way: the template's kernel and
// initrd, with ignition.config.url=<the host's tokenised config URL>, ignition.platform.id=metal and
// flatcar.first_boot=1 on the kernel command line. The template's `ignition` field renders JSON or YAML; anvil
// validates it (ignition-config.ts), adds its report unit (ignition-report-unit.ts) and serves it as JSON.
import { IGNITION_ROUTE } from '@anvil/core/bootconfig';
import { stageOf, verdictOf } from '@anvil/core/install';
import { RenderError } from '../render/errors.js';
import { MAX_KERNEL_CMDLINE } from '../render/kernel-args.js';
import { ProblemCollector } from './collect-problems.js';
import { readIgnition } from './ignition-config.js';
import { REPORT_UNIT_NAME, reportUnit } from './ignition-report-unit.js';
import type { Installer, InstallerOutput, InstallerRenderInput } from './types.js';

/** Kernel arguments anvil sets itself: a template's own value would be a second, conflicting one. */
const ANVIL_ARGS = ['ignition.config.url', 'ignition.platform.id', 'flatcar.first_boot'] as const;

export const ignitionInstaller: Installer = {
  kind: 'ignition',
  fields: ['ignition', 'kernelArgs'],
  requiredFields: ['ignition'],
  served: [{ field: 'ignition', path: IGNITION_ROUTE.replace(':mac', '<mac>').replace(':token', '<token>'), contentType: 'application/json' }],
  allowsIso: false,

  render({ outputs, urls }: InstallerRenderInput): InstallerOutput {
    if (!urls.ignitionURL) throw new RenderError('context', [{ message: 'no URL to serve the Ignition config at was given (anvil.ignitionURL)' }]);
    const problems = new ProblemCollector();
    const config = problems.attempt(() => withReportUnit(readIgnition(outputs.ignition ?? ''), urls.webhookURL));
    const kernelArgs = problems.attempt(() => ignitionKernelArgs(outputs.kernelArgs, urls.ignitionURL!));
    problems.throwIfAny();
    return { files: { installer: 'ignition', ignition: `${JSON.stringify(config, null, 2)}\n` }, kernelArgs: kernelArgs! };
  },

  // the report unit's finish event is a top-level one: the same rule as for every kind
  normalize: (event) => ({ stage: stageOf(event), verdict: verdictOf(event) }),
};

/** The config with anvil's report unit in systemd.units (a unit of the same name in the template is replaced). */
export function withReportUnit(config: Record<string, unknown>, webhookURL: string): Record<string, unknown> {
  const systemd = (config.systemd ?? {}) as Record<string, unknown>;
  const units = ((systemd.units ?? []) as Record<string, unknown>[]).filter((u) => u.name !== REPORT_UNIT_NAME);
  return { ...config, systemd: { ...systemd, units: [...units, { name: REPORT_UNIT_NAME, enabled: true, contents: reportUnit(webhookURL) }] } };
}

/** The template's kernel arguments (rendered) with anvil's; refuses control characters, anvil's own and excess length. */
export function ignitionKernelArgs(rendered: string | undefined, configURL: string): string {
  const fail = (message: string): never => {
    throw new RenderError('validation', [{ field: 'kernelArgs', message }]);
  };
  const text = (rendered ?? '').replace(/[\t\r\n]+/g, ' ');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) fail('kernel arguments must not contain control characters');
  const args = text.split(' ').filter((a) => a !== '');
  for (const name of ANVIL_ARGS) {
    if (args.some((a) => a === name || a.startsWith(`${name}=`))) fail(`kernel arguments must not set ${name}: anvil sets it for the host (${ANVIL_ARGS.join(', ')})`);
  }
  const line = [...args, `ignition.config.url=${configURL}`, 'ignition.platform.id=metal', 'flatcar.first_boot=1'].join(' ');
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > MAX_KERNEL_CMDLINE) fail(`the kernel command line is ${bytes} bytes long (at most ${MAX_KERNEL_CMDLINE})`);
  return line;
}
