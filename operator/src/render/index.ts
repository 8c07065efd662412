// The AutoinstallTemplate rendering engine: resolves template chains, validates templates, renders a host's boot
// configuration in a sandboxed worker process and validates what the installer will receive. No Kubernetes I/O.
export { TEMPLATE_FIELDS, RenderError, formatProblem, type TemplateField, type RenderErrorKind, type RenderProblem } from './errors.js';
export {
  resolveTemplate,
  templateId,
  templateSource,
  deepMerge,
  MAX_CHAIN_DEPTH,
  MAX_DEPENDENCIES,
  type TemplateLookup,
  type ResolvedTemplate,
  type ResolvedBoot,
} from './chain.js';
export { validateTemplateSpec, validateTemplateChain, checkTemplateSource, KNOWN_FILTERS, type ChainValidation, type TemplateReference } from './validate.js';
export {
  buildRenderContext,
  hostContext,
  maskSecrets,
  RESERVED_VARIABLES,
  type AnvilContext,
  type HostContext,
  type HostObject,
  type InstallContext,
  type RenderContext,
  type RenderContextInput,
  type SecretValue,
  type SecretValues,
} from './context.js';
export {
  processUserData,
  processMetaData,
  processNetworkConfig,
  processVendorData,
  cryptHashProblem,
  isCryptHash,
  ANVIL_REPORTER,
  type UserDataResult,
  type MetaDataDefaults,
} from './nocloud.js';
export { autoinstallSchema, netplanSchema } from './autoinstall-schema.js';
export { sha512Crypt, CRYPT_ALPHABET, DEFAULT_ROUNDS, type Sha512CryptOptions } from './sha512-crypt.js';
export { passwordSalt, passwordSalts } from './password-salts.js';
export {
  userDataPasswordProblems,
  autoinstallPasswordProblems,
  cloudConfigPasswordProblems,
  PASSWORD_FIX,
  type PasswordProblem,
} from './plain-passwords.js';
export { finalizeKernelArgs, MAX_KERNEL_CMDLINE, type KernelArgsOptions } from './kernel-args.js';
export { ProcessRenderer, defaultRenderer, DEFAULT_RENDERER_OPTIONS, type RendererOptions, type TemplateRenderer } from './renderer.js';
export type { RenderJob, SandboxLimits } from './sandbox.js';
export {
  renderBootConfig,
  DEFAULT_RENDER_LIMITS,
  type RenderBootConfigInput,
  type RenderBootConfigOptions,
  type RenderedBootConfig,
  type RenderLimits,
} from './render.js';
