// The dashboard's router on a loopback port for route tests, with fake ports: its base URL and a close that drops
// open connections (event streams never end by themselves).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { dashboardRouter, type DashboardOptions } from '../router.js';

export async function serveRouter(options: Omit<DashboardOptions, 'log'> & { log?: DashboardOptions['log'] }): Promise<{ base: string; close(): Promise<void> }> {
  const app = express();
  app.use(dashboardRouter({ log: pino({ level: 'silent' }), ...options }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
