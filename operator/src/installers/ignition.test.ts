// The ignition kind: what it serves, the kernel arguments it adds, the report unit it injects, and that the event
// that unit posts is the verdict under the rule the boot-server applies to every kind.
import { IGNITION_ROUTE } from '@anvil/core/bootconfig';
import { checkInstallerEvent, verdictOf } from '@anvil/core/install';
import { formatProblem, RenderError } from '../render/errors.js';
import { renderErrorOf } from '../render/testing/render-error.js';
import { ignitionInstaller, ignitionKernelArgs, withReportUnit } from './ignition.js';
import { IGNITION_FINISH_EVENT, REPORT_UNIT_NAME, reportUnit } from './ignition-report-unit.js';
import type { InstallerRenderInput } from './types.js';

const BASE = 'http://10.0.0.2:8080';
const CONFIG_URL = `${BASE}/ignition/52-54-00-00-00-01/tok3n/config.ign`;
const WEBHOOK = `${BASE}/webhook/52-54-00-00-00-01/tok3n`;

const input = (ignition: string | undefined, kernelArgs?: string): InstallerRenderInput => ({
  outputs: { ...(ignition !== undefined ? { ignition } : {}), ...(kernelArgs !== undefined ? { kernelArgs } : {}) },
  urls: { bootServerURL: BASE, webhookURL: WEBHOOK, seedURL: `${BASE}/nocloud/52-54-00-00-00-01/tok3n/`, ignitionURL: CONFIG_URL },
  host: { name: 'node-01', hostname: 'node-01' },
  install: { revision: 1, attempt: 1 },
});

describe('the ignition installer', () => {
  it('serves one JSON file at the tokenised Ignition route', () => {
    expect(ignitionInstaller.served).toEqual([{ field: 'ignition', path: '/ignition/<mac>/<token>/config.ign', contentType: 'application/json' }]);
    expect(IGNITION_ROUTE).toBe('/ignition/:mac/:token/config.ign');
    expect(ignitionInstaller.requiredFields).toEqual(['ignition']);
    expect(ignitionInstaller.allowsIso).toBe(false);
  });

  it('renders YAML into JSON with the report unit after the template\'s units, and the Flatcar PXE kernel arguments', () => {
    const out = ignitionInstaller.render(input('ignition:\n  version: 3.3.0\nsystemd:\n  units:\n    - name: docker.service\n      enabled: true\n', 'console=ttyS0'));
    expect(out.files.installer).toBe('ignition');
    const config = JSON.parse(out.files.installer === 'ignition' ? out.files.ignition : '') as { systemd: { units: { name: string; enabled?: boolean; contents?: string }[] } };
    expect(config.systemd.units.map((u) => u.name)).toEqual(['docker.service', REPORT_UNIT_NAME]);
    expect(config.systemd.units[1]).toEqual({ name: REPORT_UNIT_NAME, enabled: true, contents: reportUnit(WEBHOOK) });
    expect(out.kernelArgs).toBe(`console=ttyS0 ignition.config.url=${CONFIG_URL} ignition.platform.id=metal flatcar.first_boot=1`);
  });

  it('replaces a unit of the report unit\'s name, keeping everything else of systemd', () => {
    const config = withReportUnit({ ignition: { version: '3.3.0' }, systemd: { units: [{ name: REPORT_UNIT_NAME, mask: true }, { name: 'a.service' }] } }, WEBHOOK);
    expect(config.systemd).toEqual({ units: [{ name: 'a.service' }, { name: REPORT_UNIT_NAME, enabled: true, contents: reportUnit(WEBHOOK) }] });
  });

  it('reports every problem of the config and the kernel arguments at once', () => {
    const err = renderErrorOf('validation', () => ignitionInstaller.render(input('{"ignition": {"version": "3.9.0"}}', 'ignition.config.url=http://elsewhere/x.ign')));
    expect(err.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^ignition: rendered line 1: ignition\.version: "3\.9\.0" is not a supported Ignition config version/),
      'kernelArgs: kernel arguments must not set ignition.config.url: anvil sets it for the host (ignition.config.url, ignition.platform.id, flatcar.first_boot)',
    ]);
  });

  it('needs the template\'s ignition field and the host\'s config URL', () => {
    expect(renderErrorOf('validation', () => ignitionInstaller.render(input(undefined))).message).toContain('the Ignition config renders empty');
    const { ignitionURL: _dropped, ...urls } = input('{}').urls;
    const err = renderErrorOf('context', () => ignitionInstaller.render({ ...input('{"ignition": {"version": "3.3.0"}}'), urls }));
    expect(err).toBeInstanceOf(RenderError);
  });

  it('refuses control characters and a command line longer than the kernel takes', () => {
    expect(() => ignitionKernelArgs('a\u0007b', CONFIG_URL)).toThrow('kernel arguments must not contain control characters');
    expect(() => ignitionKernelArgs('x'.repeat(2100), CONFIG_URL)).toThrow(/the kernel command line is \d+ bytes long \(at most 2048\)/);
    expect(() => ignitionKernelArgs('flatcar.first_boot=0', CONFIG_URL)).toThrow('must not set flatcar.first_boot');
    expect(ignitionKernelArgs(undefined, CONFIG_URL)).toBe(`ignition.config.url=${CONFIG_URL} ignition.platform.id=metal flatcar.first_boot=1`);
  });
});

describe('the report unit', () => {
  it('posts the finish event the webhook accepts and the verdict rule takes as SUCCESS', () => {
    const checked = checkInstallerEvent(IGNITION_FINISH_EVENT);
    expect('event' in checked && checked.event).toMatchObject({ name: 'anvil/install/complete', event_type: 'finish', result: 'SUCCESS', origin: 'ignition' });
    expect(verdictOf(IGNITION_FINISH_EVENT)).toBe('SUCCESS');
    expect(ignitionInstaller.normalize(IGNITION_FINISH_EVENT)).toEqual({ stage: 'complete', verdict: 'SUCCESS' });
    expect(ignitionInstaller.normalize({ name: 'anvil/other', event_type: 'start' })).toEqual({ stage: undefined, verdict: undefined });
  });

  it('is a one-shot service started with multi-user.target that posts the event with curl, escaped for systemd', () => {
    const unit = reportUnit('http://boot.test/webhook/m/t%41$x');
    expect(unit).toContain('Type=oneshot\n');
    expect(unit).toContain('[Install]\nWantedBy=multi-user.target\n');
    expect(unit).not.toMatch(/After=.*multi-user\.target/);
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    expect(exec).toContain(`--data '${JSON.stringify(IGNITION_FINISH_EVENT)}'`);
    expect(exec.endsWith(' http://boot.test/webhook/m/t%%41$$x')).toBe(true);
    expect(() => reportUnit("http://x/'; rm -rf /")).toThrow('must not contain quotes');
  });
});
