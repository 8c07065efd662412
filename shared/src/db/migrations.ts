// The schema's migrations, in order. Each is a list of statements that PostgreSQL (13+), PGlite and CockroachDB all
// accept, and each statement is idempotent (IF NOT EXISTS), so a migration interrupted halfway (CockroachDB runs
// schema changes asynchronously and does not make several of them atomic) can simply be applied again.
// Never edit a migration that has shipped: add a new one. The migrator refuses to run when an applied migration's
// checksum differs from the one here.
//
// Migrations live in TypeScript rather than .sql files so that `tsc` output (dist/) carries them with no copy step.
import { createHash } from 'node:crypto';

export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'install history',
    statements: [
      `CREATE TABLE IF NOT EXISTS installations (
        id UUID PRIMARY KEY,
        host_namespace TEXT NOT NULL,
        host_name TEXT NOT NULL,
        host_uid TEXT NOT NULL,
        mac TEXT NOT NULL,
        template_name TEXT,
        template_content_hash TEXT,
        template_generation INT8,
        revision INT8 NOT NULL,
        attempt INT4 NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        result TEXT,
        duration_seconds INT8,
        failure_reason TEXT,
        failure_message TEXT,
        CONSTRAINT installations_result_check CHECK (result IN ('SUCCESS', 'FAIL', 'CANCELLED'))
      )`,
      `CREATE INDEX IF NOT EXISTS installations_host_idx ON installations (host_namespace, host_name, started_at DESC, id DESC)`,
      `CREATE INDEX IF NOT EXISTS installations_result_finished_idx ON installations (result, finished_at DESC, id DESC)`,
      `CREATE INDEX IF NOT EXISTS installations_finished_idx ON installations (finished_at, template_name)`,
      `CREATE TABLE IF NOT EXISTS installer_events (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        installation_id UUID NOT NULL,
        event_key TEXT NOT NULL,
        name TEXT NOT NULL,
        event_type TEXT NOT NULL,
        result TEXT,
        origin TEXT,
        level TEXT,
        description TEXT,
        event_time TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        raw JSONB
      )`,
      `CREATE UNIQUE INDEX IF NOT EXISTS installer_events_key_idx ON installer_events (installation_id, event_key)`,
      `CREATE INDEX IF NOT EXISTS installer_events_installation_time_idx ON installer_events (installation_id, event_time, received_at, id)`,
      `CREATE INDEX IF NOT EXISTS installer_events_received_idx ON installer_events (received_at)`,
      `CREATE TABLE IF NOT EXISTS boot_requests (
        id UUID PRIMARY KEY,
        mac TEXT NOT NULL,
        client_ip TEXT NOT NULL,
        path TEXT NOT NULL,
        served TEXT NOT NULL,
        host_namespace TEXT,
        host_name TEXT,
        installation_id UUID,
        time TIMESTAMPTZ NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS boot_requests_mac_time_idx ON boot_requests (mac, time DESC, id DESC)`,
      `CREATE INDEX IF NOT EXISTS boot_requests_installation_idx ON boot_requests (installation_id)`,
      `CREATE INDEX IF NOT EXISTS boot_requests_time_idx ON boot_requests (time)`,
      `CREATE TABLE IF NOT EXISTS discovered_machines (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        mac TEXT NOT NULL,
        first_seen TIMESTAMPTZ NOT NULL,
        last_seen TIMESTAMPTZ NOT NULL,
        last_ip TEXT,
        arch TEXT,
        platform TEXT,
        system_uuid TEXT
      )`,
      `CREATE UNIQUE INDEX IF NOT EXISTS discovered_machines_mac_idx ON discovered_machines (mac)`,
      `CREATE INDEX IF NOT EXISTS discovered_machines_last_seen_idx ON discovered_machines (last_seen DESC, id DESC)`,
      `CREATE TABLE IF NOT EXISTS template_builds (
        id UUID PRIMARY KEY,
        template_namespace TEXT NOT NULL,
        template_name TEXT NOT NULL,
        version TEXT NOT NULL,
        vmid INT4,
        node TEXT,
        checksum TEXT,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        result TEXT,
        failure_reason TEXT,
        task_upid TEXT,
        CONSTRAINT template_builds_result_check CHECK (result IN ('SUCCESS', 'FAIL', 'CANCELLED'))
      )`,
      `CREATE INDEX IF NOT EXISTS template_builds_template_idx ON template_builds (template_namespace, template_name, started_at DESC, id DESC)`,
    ],
  },
  {
    version: 2,
    name: 'failed stage; failures by the server clock',
    statements: [
      // The install stage the deepest installer failure belongs to (partitioning, extract, ...).
      `ALTER TABLE installations ADD COLUMN IF NOT EXISTS failure_stage TEXT`,
      // When the server learned of the finish, by its own clock: finished_at is the installer's, which can be far off.
      `ALTER TABLE installations ADD COLUMN IF NOT EXISTS finish_received_at TIMESTAMPTZ`,
      `UPDATE installations SET finish_received_at = finished_at WHERE finish_received_at IS NULL AND finished_at IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS installations_failures_idx ON installations (result, finish_received_at DESC, id DESC)`,
    ],
  },
  {
    version: 3,
    name: 'unknown machines recorded once: sighting count',
    statements: [
      // Boot requests of machines without a BareMetalHost are no longer stored one row each: their one
      // discovered_machines row counts them. Rows from before count as one sighting.
      `ALTER TABLE discovered_machines ADD COLUMN IF NOT EXISTS seen_count INT8 NOT NULL DEFAULT 1`,
    ],
  },
  {
    version: 4,
    name: 'rollout decisions of AutoinstallTemplates',
    statements: [
      `CREATE TABLE IF NOT EXISTS rollout_decisions (
        id UUID PRIMARY KEY,
        template_namespace TEXT NOT NULL,
        template_name TEXT NOT NULL,
        time TIMESTAMPTZ NOT NULL,
        type TEXT NOT NULL,
        message TEXT NOT NULL,
        revision INT8,
        hosts JSONB NOT NULL,
        trigger TEXT NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS rollout_decisions_template_idx ON rollout_decisions (template_namespace, template_name, time DESC, id DESC)`,
    ],
  },
];

export const migrationChecksum = (m: Migration): string =>
  createHash('sha256')
    .update(m.statements.map((s) => s.replace(/\s+/g, ' ').trim()).join(';\n'))
    .digest('hex');
