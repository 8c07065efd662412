// The boot-server's UDP syslog port (--syslog-port): d-i sends its log here (log_host=/log_port=), the receiver turns
// it into installer events. Counted by outcome (anvil_syslog_datagrams_total); a bad datagram is dropped, never fatal.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { BootConfigIndex } from '../bootconfigs/index.js';
import type { SpoolRecord } from '../spool/records.js';
import { NOT_FOUND, WebhookReceiver } from '../http/webhook.js';
import { SyslogReceiver, type DatagramOutcome } from './receiver.js';
import type { BootSenders } from './senders.js';

export interface SyslogWiring {
  host: string;
  port: number;
  index: BootConfigIndex;
  senders: BootSenders;
  spool: { append(records: SpoolRecord[]): Promise<void> };
  eventGraceMs: number;
  registry: Registry;
  log: Logger;
  rateLimit?: { perSecond: number; burst: number };
}

export interface SyslogServer {
  port: number;
  stop(): Promise<void>;
}

export async function startSyslog(w: SyslogWiring): Promise<SyslogServer> {
  const datagrams = new Counter({
    name: 'anvil_syslog_datagrams_total',
    help: 'Syslog datagrams received, by outcome: event (installer events spooled), ignored (no progress in it), malformed, unknown-sender, not-installing, rate-limited, refused',
    labelNames: ['outcome'],
    registers: [w.registry],
  });
  const webhook = new WebhookReceiver({ index: w.index, spool: w.spool, eventGraceMs: w.eventGraceMs, refuseUnknown: () => NOT_FOUND, countEvent: () => undefined });
  const receiver = new SyslogReceiver({
    index: w.index,
    senders: w.senders,
    post: (mac, token, body, remote, path) => webhook.receive(mac, token, body, remote, path),
    count: (outcome: DatagramOutcome) => datagrams.inc({ outcome }),
    ...(w.rateLimit ? { rateLimit: w.rateLimit } : {}),
  });
  const socket: Socket = createSocket({ type: isIPv6(w.host) ? 'udp6' : 'udp4' });
  socket.on('message', (datagram, rinfo) => {
    receiver.receive(datagram, rinfo.address).catch((err: unknown) => w.log.error({ err }, 'syslog event not spooled'));
  });
  socket.on('error', (err) => w.log.error({ err }, 'syslog socket error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(w.port, w.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
