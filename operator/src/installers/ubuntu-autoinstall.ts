// Ubuntu autoinstall (subiquity): NoCloud user-data, meta-data, network-config and vendor-data served below the seed
// URL given as ds=nocloud-net;s=<seed>/; subiquity's webhook reporter (added by anvil to the user-data) posts curtin
// and subiquity events. The validation and completion of each file is the NoCloud module's (render/nocloud.ts).
import { stageOf, verdictOf } from '@anvil/core/install';
import { finalizeKernelArgs } from '../render/kernel-args.js';
import { processMetaData, processNetworkConfig, processUserData, processVendorData } from '../render/nocloud.js';
import { ProblemCollector } from './collect-problems.js';
import type { Installer, InstallerOutput, InstallerRenderInput } from './types.js';

const SEED = '/nocloud/<mac>/<token>';

export const ubuntuAutoinstall: Installer = {
  kind: 'ubuntu-autoinstall',
  fields: ['userData', 'metaData', 'networkConfig', 'vendorData', 'kernelArgs'],
  requiredFields: ['userData'],
  served: [
    { field: 'userData', path: `${SEED}/user-data`, contentType: 'text/plain' },
    { field: 'metaData', path: `${SEED}/meta-data`, contentType: 'text/plain' },
    { field: 'networkConfig', path: `${SEED}/network-config`, contentType: 'text/plain' },
    { field: 'vendorData', path: `${SEED}/vendor-data`, contentType: 'text/plain' },
  ],
  allowsIso: true,

  render({ outputs, urls, host, install }: InstallerRenderInput): InstallerOutput {
    const problems = new ProblemCollector();
    const userData = problems.attempt(() => processUserData(outputs.userData ?? '', urls.webhookURL, urls.webhookRetries));
    const metaData = problems.attempt(() =>
      processMetaData(outputs.metaData, { instanceId: `${host.name}-${install.revision}-${install.attempt}`, hostname: host.hostname }),
    );
    const networkConfig = problems.attempt(() => processNetworkConfig(outputs.networkConfig, host.networkConfig));
    const vendorData = problems.attempt(() => processVendorData(outputs.vendorData));
    const kernelArgs = problems.attempt(() => finalizeKernelArgs(outputs.kernelArgs, { seedURL: urls.seedURL, isoURL: urls.isoURL }));
    problems.throwIfAny();
    return {
      files: {
        installer: 'ubuntu-autoinstall',
        userData: userData!.text,
        metaData: metaData!,
        ...(networkConfig !== undefined ? { networkConfig } : {}),
        ...(vendorData !== undefined ? { vendorData } : {}),
      },
      kernelArgs: kernelArgs!,
    };
  },

  // subiquity's top-level finish decides; curtin's step names map to install stages
  normalize: (event) => ({ stage: stageOf(event), verdict: verdictOf(event) }),
};
