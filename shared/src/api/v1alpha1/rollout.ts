// An AutoinstallTemplate's rollout (issue 26): the policy in spec.rollout, the rollout's progress in status.rollout.
// The operator's rollout controller (operator/src/controllers/rollout) drives it with operator/src/rollout's decisions.
import * as s from '../schema.js';
import { objectName } from './common.js';

/** The classes of a template change, least to most dangerous (operator/src/rollout/change-classes.ts). */
export const ROLLOUT_CHANGE_CLASSES = ['none', 'post-install', 'packages', 'system', 'network', 'storage', 'installer'] as const;
export const ROLLOUT_PHASE_NAMES = ['Idle', 'AwaitingApproval', 'AwaitingWindow', 'Rolling', 'Paused', 'Completed', 'RollingBack', 'RolledBack', 'RollbackFailed'] as const;

export const ROLLOUT_CONDITIONS = {
  /** False when a rollout halted and its rollback failed too (loop prevention stopped it): a person must look. */
  RolloutHealthy: 'RolloutHealthy',
} as const;

const healthCheck = s.object(
  'One check of a host after its install: a TCP port that accepts a connection, or an HTTP(S) endpoint answering the expected status. Probed at the host\'s address (the IP its last boot request came from).',
  {
    tcp: s.object('A TCP port that must accept a connection.', { port: s.integer('TCP port.', { minimum: 1, maximum: 65535 }) }, { required: ['port'] }),
    http: s.object(
      'An HTTP(S) endpoint that must answer.',
      {
        port: s.integer('Port.', { minimum: 1, maximum: 65535 }),
        path: s.string('Path, e.g. /healthz.', { maxLength: 1024, default: '/' }),
        https: s.boolean('Use HTTPS (the certificate is not verified: a freshly installed machine has a self-signed one).', { default: false }),
        expectStatus: s.integer('Expected status code.', { minimum: 100, maximum: 599, default: 200 }),
        bodyContains: s.string('A string the body must contain.', { maxLength: 1024 }),
      },
      { required: ['port'] },
    ),
  },
  { exactlyOneOf: [['tcp'], ['http']] },
);

export const rolloutPolicySchema = s.object(
  'How a new revision of this template reaches the hosts that use it. Without it a change reaches a host only when its spec.provisioning.revision is bumped. With it, each new revision is judged by the diff gate, installed on the hosts in waves inside the maintenance windows, health-checked, and rolled back on the failed hosts when a wave fails (docs/updates.md).',
  {
    hostSelector: s.stringMap('Labels a host must have to follow this template\'s rollouts (all hosts using the template when unset).', { maxProperties: 32 }),
    batchSize: s.integer('Hosts per wave.', { minimum: 1, maximum: 10000, default: 1 }),
    pauseSeconds: s.integer('Seconds between a verified wave and the next.', { minimum: 0, maximum: 604800, default: 0 }),
    failureThreshold: s.integer('Failed hosts in one wave that halt the rollout and roll them back to the previous revision.', { minimum: 1, maximum: 10000, default: 1 }),
    healthTimeoutSeconds: s.integer('Seconds a host of a wave may take from its install start to passing its health checks before it counts as failed.', { minimum: 60, maximum: 86400, default: 3600 }),
    monitorSeconds: s.integer('Seconds the health checks must keep passing after they first pass.', { minimum: 0, maximum: 86400, default: 0 }),
    healthChecks: s.array('Checks a host must pass after the installer\'s own verdict; none: the installer\'s verdict alone.', healthCheck, { maxItems: 16 }),
    maxRollbacks: s.integer('Rollbacks of one host allowed within rollbackWindowSeconds; one more stops the rollout (RolloutHealthy=False) for a person.', { minimum: 1, maximum: 100, default: 1 }),
    rollbackWindowSeconds: s.integer('The window of maxRollbacks.', { minimum: 60, maximum: 2592000, default: 86400 }),
    maintenanceWindows: s.array(
      'Waves start only inside one of these windows (a running wave finishes). None: at any time.',
      s.object(
        'A maintenance window: cron schedule of its starts, duration and time zone.',
        {
          schedule: s.string('Five-field cron schedule of the window\'s starts (minute hour day-of-month month day-of-week), e.g. "0 2 * * 6".', { maxLength: 128 }),
          durationMinutes: s.integer('How long the window stays open, minutes.', { minimum: 1, maximum: 1440 }),
          timeZone: s.string('IANA time zone of the schedule, e.g. Europe/Berlin.', { maxLength: 64, default: 'UTC' }),
        },
        { required: ['schedule', 'durationMinutes'] },
      ),
      { maxItems: 16 },
    ),
    autoApproveChangesUpTo: s.stringEnum(
      'The diff gate: changes of these classes and below roll out without approval (none < post-install < packages < system < network < storage < installer); a higher one waits until approvedRevision names it.',
      ROLLOUT_CHANGE_CLASSES,
      { default: 'packages' },
    ),
    revision: s.integer(
      'Roll out this kept revision (status.revisions[].revision) instead of the newest: a manual rollback, or holding the fleet on a known-good revision while the template is edited. Unset: the newest.',
      { minimum: 1, format: 'int64' },
    ),
    approvedRevision: s.integer('The revision (status.revisions[].revision) a person approved to roll out although the gate asked; approves that revision only.', { minimum: 1, format: 'int64' }),
  },
);

const auditRecord = s.object(
  'One decision of the rollout.',
  {
    time: s.dateTime('When it was made.'),
    type: s.string('GateVerdict, WaveStarted, WaveVerified, HostUnhealthy, RolloutHalted, RollbackStarted, RolledBack, RollbackFailed or RolloutCompleted.', { maxLength: 64 }),
    message: s.string('What was decided and why.', { maxLength: 1024 }),
    hosts: s.array('The hosts it concerns.', objectName('A BareMetalHost name.'), { maxItems: 256 }),
  },
  { required: ['time', 'type', 'message'] },
);

export const rolloutStatusSchema = s.object(
  'The rollout of this template\'s newest revision, written by the rollout controller.',
  {
    phase: s.stringEnum('Where the rollout is.', ROLLOUT_PHASE_NAMES),
    targetRevision: s.integer('The revision being rolled out.', { minimum: 1, format: 'int64' }),
    targetContentHash: s.string('Its content hash.', { maxLength: 128 }),
    previousRevision: s.integer('The revision most hosts had before: what a rollback installs.', { minimum: 1, format: 'int64' }),
    previousContentHash: s.string('Its content hash.', { maxLength: 128 }),
    change: s.array('The classes of the change from the previous revision, as the diff gate read them.', s.string('A change class and the part, e.g. storage (autoinstall.storage).', { maxLength: 256 }), { maxItems: 64 }),
    waves: s.array('The hosts of each wave, fixed when the rollout started.', s.object('One wave.', { hosts: s.array('Host names.', objectName('A BareMetalHost name.'), { maxItems: 10000 }) }, { required: ['hosts'] }), { maxItems: 10000 }),
    wave: s.integer('Index of the current wave, from 0.', { minimum: 0 }),
    waveStartedAt: s.dateTime('When the current wave started.'),
    pauseUntil: s.dateTime('When the pause after a verified wave ends.'),
    failedHosts: s.array('Hosts of this rollout that failed.', objectName('A BareMetalHost name.'), { maxItems: 10000 }),
    rollbacks: s.array(
      'Rollback times per host, for loop prevention.',
      s.object('A host\'s rollbacks.', { host: objectName('A BareMetalHost name.'), times: s.array('When.', s.dateTime('A rollback.'), { maxItems: 100 }) }, { required: ['host', 'times'] }),
      { maxItems: 10000 },
    ),
    health: s.array(
      'Health of the hosts of the current wave (or rollback) after their install.',
      s.object(
        'One host\'s health checks after one install.',
        {
          host: objectName('A BareMetalHost name.'),
          installationId: s.string('The install these checks are about.', { maxLength: 64 }),
          verdict: s.stringEnum('pending until every check passed for the monitoring window; failed when one did not in time.', ['pending', 'passed', 'failed']),
          since: s.dateTime('When the install finished: the timeout counts from here.'),
          passingSince: s.dateTime('When every check first passed.'),
          failures: s.integer('Failed rounds before the first pass (the backoff).', { minimum: 0 }),
          nextProbeAt: s.dateTime('When the checks are probed again.'),
          message: s.string('The last probe round\'s outcome.', { maxLength: 1024 }),
        },
        { required: ['host', 'installationId', 'verdict', 'since', 'failures', 'message'] },
      ),
      { maxItems: 10000 },
    ),
    message: s.string('What the rollout is doing or waiting for.', { maxLength: 4096 }),
    audit: s.array('The latest decisions, newest first (also Events, metrics and, with a database, the install history).', auditRecord, { maxItems: 50 }),
  },
);
