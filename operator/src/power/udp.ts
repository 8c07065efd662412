// The UDP adapter behind Wake-on-LAN: one datagram with broadcast enabled. Kept apart so the driver's logic stays
// free of sockets and unit tests can capture what would be sent.
import { createSocket } from 'node:dgram';

export type DatagramSender = (packet: Buffer, address: string, port: number) => Promise<void>;

export const sendBroadcastDatagram: DatagramSender = (packet, address, port) =>
  new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const fail = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', fail);
    socket.bind(0, () => {
      socket.setBroadcast(true);
      socket.send(packet, port, address, (err) => {
        socket.close();
        if (err) reject(err);
        else resolve();
      });
    });
  });
