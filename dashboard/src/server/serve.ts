// The dashboard's own HTTP listener (the operator's --dashboard-port): the router at /, nothing else on it.
import type { AddressInfo, Socket } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { dashboardRouter, type DashboardOptions } from './router.js';

export interface DashboardServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function serveDashboard(opts: DashboardOptions & { port: number; host: string }): Promise<DashboardServer> {
  const app = express();
  app.disable('x-powered-by');
  app.use(dashboardRouter(opts));
  const sockets = new Set<Socket>();
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  // Event streams never end by themselves: closing drops their connections.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
