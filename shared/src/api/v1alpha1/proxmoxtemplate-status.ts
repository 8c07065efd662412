// ProxmoxTemplate status: the phase, the active template, the build in progress (so a restarted operator resumes
// it), the PVE tasks waited for, and the versions built.
import * as s from '../schema.js';
import { observedGeneration } from './common.js';
import { BUILD_STEPS, CHECKSUM_ALGORITHMS, PROXMOXTEMPLATE_PHASES, VALIDATION_STEPS } from './proxmoxtemplate-enums.js';
import { vmid } from './proxmoxtemplate-spec.js';

const currentTask = s.object(
  'The PVE task being waited for.',
  {
    upid: s.string('Task UPID.', { maxLength: 512 }),
    type: s.string('Task type, e.g. download, qmcreate, resize, qmtemplate.', { maxLength: 64 }),
    node: s.string('Node running the task.', { maxLength: 63 }),
    startedAt: s.dateTime('When the task started.'),
  },
  { required: ['upid'] },
);

const lastFailedTask = s.object(
  'The last PVE task that failed, with the end of its log.',
  {
    upid: s.string('Task UPID.', { maxLength: 512 }),
    type: s.string('Task type.', { maxLength: 64 }),
    exitStatus: s.string('The task\'s exitstatus.', { maxLength: 1024 }),
    log: s.string('Last lines of the task log.', { maxLength: 8192 }),
    finishedAt: s.dateTime('When the task ended.'),
  },
  { required: ['upid'] },
);

const version = s.object(
  'One template version built by this object.',
  {
    version: s.integer('Version number, starting at 1.', { minimum: 1, format: 'int32' }),
    vmid: vmid('VMID of the template.'),
    name: s.string('Name of the template VM.', { maxLength: 128 }),
    checksum: s.string('Checksum of the image it was built from.', { maxLength: 128 }),
    imageURL: s.string('URL of the image it was built from.', { maxLength: 2048 }),
    settingsHash: s.string('Hash of spec.vm and spec.cloudInit it was built with (a change builds a new version).', { maxLength: 64 }),
    release: s.string('The distribution release it was built from, e.g. 24.04.', { maxLength: 64 }),
    validated: s.boolean('Whether its validation boot passed (unset when none was asked for).'),
    createdAt: s.dateTime('When the template was completed.'),
  },
  { required: ['version', 'vmid'] },
);

const build = s.object(
  'The build in progress: what it makes and how far it got, so a restarted operator resumes it instead of starting over.',
  {
    id: s.string('Build id (a UUID), also the key of the build in the install history.', { maxLength: 64 }),
    version: s.integer('Version being built.', { minimum: 1, format: 'int32' }),
    vmid: vmid('VMID chosen for the new template; set before the VM is created.'),
    name: s.string('Name of the new template VM.', { maxLength: 128 }),
    imageURL: s.string('URL of the image.', { maxLength: 2048 }),
    checksum: s.string('Expected checksum of the image.', { maxLength: 128 }),
    algorithm: s.stringEnum('Algorithm of checksum.', CHECKSUM_ALGORITHMS),
    importVolume: s.string('Volume the image is downloaded to, e.g. local:import/noble-server-cloudimg-amd64-1a2b3c4d5e6f.qcow2.', { maxLength: 512 }),
    settingsHash: s.string('Hash of spec.vm and spec.cloudInit the build uses.', { maxLength: 64 }),
    step: s.stringEnum('Step in progress: download, create, resize, template or validate.', BUILD_STEPS),
    release: s.string('The distribution release being built, e.g. 24.04.', { maxLength: 64 }),
    validation: s.object(
      'The validation boot of the built template (spec.validation).',
      {
        vmid: vmid('VMID of the validation VM (a clone of the new template).'),
        step: s.stringEnum('clone, start, boot (waiting for it to come up) or cleanup (stop and destroy).', VALIDATION_STEPS),
        startedAt: s.dateTime('When the validation started.'),
        runningSince: s.dateTime('When the VM was first seen running.'),
        failure: s.string('Why the validation failed (the version is rejected after cleanup).', { maxLength: 2048 }),
      },
    ),
    takenVmids: s.array('VMIDs found taken by someone else during this build (skipped when choosing).', vmid('A VMID.'), { maxItems: 64 }),
    startedAt: s.dateTime('When the build started.'),
    failures: s.integer('Failed attempts of this build so far (retried with backoff).', { minimum: 0, format: 'int32' }),
  },
  { required: ['id', 'version'] },
);

export const proxmoxTemplateStatusSchema = s.object('Observed state of the ProxmoxTemplate, written by anvil.', {
  phase: s.stringEnum(
    'Build phase: Pending, Downloading (image into importStorage), Creating (VM with the imported disk), Converting (resize and convert to template), Ready, Failed, Deleting.',
    PROXMOXTEMPLATE_PHASES,
  ),
  vmid: vmid('VMID of the active template.'),
  templateName: s.string('Name of the active template VM.', { maxLength: 128 }),
  imageURL: s.string('Resolved URL of the image.', { maxLength: 2048 }),
  imageChecksum: s.string('Checksum of the image the active template was built from.', { maxLength: 128 }),
  pveVersion: s.string('Proxmox VE version reported by GET /version.', { maxLength: 64 }),
  build,
  currentTask,
  lastFailedTask,
  versions: s.array('The template versions that exist, oldest first.', version, { maxItems: 128 }),
  activeVersion: s.integer('Version in use: spec.versions.pin if set, otherwise the newest.', { minimum: 1, format: 'int32' }),
  lastCheckedAt: s.dateTime('When the upstream image was last checked for changes.'),
  nextRetryAt: s.dateTime('When a Failed build is tried again (a spec change retries at once).'),
  pendingRelease: s.string('A newer upstream release that waits for approval (spec.updates.approvedRelease), e.g. 26.04.', { maxLength: 64 }),
  message: s.string('Human-readable summary of the current phase or the last error (with the PVE message).', { maxLength: 4096 }),
  conditions: s.conditions('Current conditions: Ready, Connected, SourceResolved, Building, UpdateApproved.'),
  observedGeneration: observedGeneration(),
});
