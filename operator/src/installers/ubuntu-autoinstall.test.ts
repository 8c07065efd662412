// The ubuntu-autoinstall kind delegates to the NoCloud module: the same files and kernel arguments as before kinds
// existed, every problem of every file at once, and subiquity's top-level finish as the verdict.
import { formatProblem } from '../render/errors.js';
import { finalizeKernelArgs } from '../render/kernel-args.js';
import { processMetaData, processUserData } from '../render/nocloud.js';
import { renderErrorOf } from '../render/testing/render-error.js';
import type { InstallerRenderInput } from './types.js';
import { ubuntuAutoinstall } from './ubuntu-autoinstall.js';

const HASH = '$6$exDY1mhS4KUYCE/2$zmn9ToZwTKLhCw.b4/b.ZRTIZM30JZ4QrOQ2aOXJ8yk96xpcCof0kxKwuX1kqLG/ygbJ1f8wxED22bTL4F46P0';
const USER_DATA = `#cloud-config\nautoinstall:\n  version: 1\n  identity: {hostname: node-01, username: u, password: "${HASH}"}\n`;
const URLS = { bootServerURL: 'http://b', webhookURL: 'http://b/webhook/m/t', seedURL: 'http://b/nocloud/m/t/', isoURL: 'http://b/assets/x/ubuntu.iso' };

const input = (outputs: InstallerRenderInput['outputs']): InstallerRenderInput => ({
  outputs,
  urls: URLS,
  host: { name: 'node-01', hostname: 'node-01' },
  install: { revision: 2, attempt: 3 },
});

describe('the ubuntu-autoinstall installer', () => {
  it('serves the NoCloud seed files', () => {
    expect(ubuntuAutoinstall.served.map((f) => f.path)).toEqual(['user-data', 'meta-data', 'network-config', 'vendor-data'].map((f) => `/nocloud/<mac>/<token>/${f}`));
    expect(ubuntuAutoinstall.requiredFields).toEqual(['userData']);
    expect(ubuntuAutoinstall.fields).not.toContain('ignition');
  });

  it('renders exactly what the NoCloud module makes of the files', () => {
    const out = ubuntuAutoinstall.render(input({ userData: USER_DATA, kernelArgs: 'console=ttyS0' }));
    expect(out).toEqual({
      files: {
        installer: 'ubuntu-autoinstall',
        userData: processUserData(USER_DATA, URLS.webhookURL).text,
        metaData: processMetaData(undefined, { instanceId: 'node-01-2-3', hostname: 'node-01' }),
      },
      kernelArgs: finalizeKernelArgs('console=ttyS0', { seedURL: URLS.seedURL, isoURL: URLS.isoURL }),
    });
  });

  it('reports the problems of every file at once', () => {
    const err = renderErrorOf('validation', () => ubuntuAutoinstall.render(input({ userData: 'not cloud-config', metaData: '[1]', kernelArgs: 'ds=nocloud' })));
    expect(err.problems.map((p) => p.field)).toEqual(['userData', 'metaData', 'kernelArgs']);
    expect(err.problems.map(formatProblem)[0]).toBe('userData: rendered line 1: user-data must start with the line "#cloud-config"');
  });

  it('takes subiquity\'s top-level finish as the verdict and a nested step as a stage', () => {
    expect(ubuntuAutoinstall.normalize({ name: 'subiquity/Install/install', event_type: 'finish', result: 'FAIL' })).toEqual({ stage: undefined, verdict: 'FAIL' });
    expect(ubuntuAutoinstall.normalize({ name: 'subiquity/Install/install/curthooks', event_type: 'start' })).toEqual({ stage: 'curthooks', verdict: undefined });
  });
});
