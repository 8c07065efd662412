// Syslog messages as installers send them over UDP: RFC 3164 (BSD: `<PRI>Mmm dd hh:mm:ss [host ]tag[pid]: text`, as
// busybox syslogd forwards d-i's log with `log_host=`) and RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`).
// Parsing never throws: a datagram that is not syslog is reported as such, and counted by the caller.

export interface SyslogMessage {
  facility: number;
  severity: number;
  /** The program (tag / APP-NAME), e.g. main-menu; empty when the message has none. */
  app: string;
  text: string;
  /** As the sender wrote it; RFC 3164 timestamps carry no year or zone. */
  timestamp?: string;
  hostname?: string;
}

const MAX_DATAGRAM = 8192;
const BSD_TIME = /^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) /;
const TAG = /^([^\s:[\]]{1,64})(?:\[(\d{1,10})\])?: ?/;

export function parseSyslog(datagram: Buffer): SyslogMessage | { error: string } {
  if (datagram.length === 0) return { error: 'empty datagram' };
  if (datagram.length > MAX_DATAGRAM) return { error: `datagram of ${datagram.length} bytes (limit ${MAX_DATAGRAM})` };
  const raw = datagram.toString('utf8').replaceAll('\u0000', '\uFFFD').replace(/[\r\n]+$/, '');
  const pri = /^<(\d{1,3})>/.exec(raw);
  if (!pri || Number(pri[1]) > 191) return { error: 'no syslog priority (<0>-<191>) at the start' };
  const facility = Math.floor(Number(pri[1]) / 8);
  const severity = Number(pri[1]) % 8;
  const rest = raw.slice(pri[0].length);
  return rest.startsWith('1 ') ? rfc5424(facility, severity, rest.slice(2)) : rfc3164(facility, severity, rest);
}

function rfc3164(facility: number, severity: number, rest: string): SyslogMessage {
  let text = rest;
  let timestamp: string | undefined;
  let hostname: string | undefined;
  const time = BSD_TIME.exec(text);
  if (time) {
    timestamp = time[1];
    text = text.slice(time[0].length);
    // a hostname precedes the tag when the next word is followed by another word with a colon (host tag: text)
    const host = /^([A-Za-z0-9._-]{1,255}) (?=[^\s:[\]]{1,64}(?:\[\d+\])?: )/.exec(text);
    if (host) {
      hostname = host[1];
      text = text.slice(host[0].length);
    }
  }
  const tag = TAG.exec(text);
  const app = tag ? tag[1]! : '';
  if (tag) text = text.slice(tag[0].length);
  return { facility, severity, app, text, ...(timestamp ? { timestamp } : {}), ...(hostname ? { hostname } : {}) };
}

function rfc5424(facility: number, severity: number, rest: string): SyslogMessage | { error: string } {
  const m = /^(\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$/s.exec(rest);
  if (!m) return { error: 'RFC 5424 header incomplete' };
  const nil = (v: string | undefined): string | undefined => (v === undefined || v === '-' ? undefined : v);
  const timestamp = nil(m[1]);
  const hostname = nil(m[2]);
  return { facility, severity, app: nil(m[3]) ?? '', text: (m[7] ?? '').replace(/^\uFEFF/, ''), ...(timestamp ? { timestamp } : {}), ...(hostname ? { hostname } : {}) };
}
