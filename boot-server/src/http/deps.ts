// What the boot-server's HTTP app is built from (main.ts wires the real ones, tests their own).
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BootConfigIndex } from '../bootconfigs/index.js';
import type { SpoolRecord } from '../spool/records.js';
import type { AssetCache } from '../assets/cache.js';
import type { RateLimitOptions } from './rate-limit.js';

export interface BootHttpDeps {
  index: BootConfigIndex;
  assets: AssetCache;
  /** Durable: resolves once the records are on disk. */
  spool: { append(records: SpoolRecord[]): Promise<void> };
  log: Logger;
  registry: Registry;
  /** Base URL machines reach this server at (for the entry script). */
  publicURL: string;
  unknownMachine?: 'exit' | 'shell';
  maxWebhookBytes?: number;
  /** Per-source limits for requests without a valid token (default 50/s, burst 500; perSecond 0 disables). */
  rateLimit?: RateLimitOptions;
  /** How long after its verdict an installation's events are still taken (default 30 min); a new boot ends it. */
  eventGraceMs?: number;
  ready?: () => boolean;
  /** Extra read-only routes (the install-history API when this process owns the embedded database). */
  extraRoutes?: Router;
}
