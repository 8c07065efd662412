// A stateful Redfish service for tests, following DSP0266 and the DMTF ComputerSystem schema: ServiceRoot, the
// Systems collection, ComputerSystem (PowerState, Boot.BootSourceOverride*, Actions/#ComputerSystem.Reset with
// ResetType@Redfish.AllowableValues), ETags with If-Match, and authentication by session (X-Auth-Token from
// SessionService/Sessions) or HTTP basic. Systems boot when powered on or reset, consuming a "Once" override.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export const RESET_TYPES = ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'ForceOn', 'PushPowerButton', 'PowerCycle'] as const;
const BOOT_TARGETS = ['None', 'Pxe', 'Hdd', 'Cd', 'Usb', 'BiosSetup', 'UefiShell', 'UefiHttp'];
const BOOT_ENABLED = ['Disabled', 'Once', 'Continuous'];

export interface SimSystem {
  id: string;
  powerState: 'On' | 'Off';
  boot: { BootSourceOverrideEnabled: string; BootSourceOverrideTarget: string; BootSourceOverrideMode: string };
  /** What each boot booted from: the override target, or Hdd. */
  boots: string[];
  /** Reset types received, in order. */
  resets: string[];
  /** Whether the "OS" reacts to GracefulShutdown/GracefulRestart. */
  osHonoursAcpi: boolean;
  version: number;
}

export interface RedfishSimOptions {
  username?: string;
  password?: string;
  systemIds?: string[];
  /** Offer SessionService sessions (default true). */
  sessions?: boolean;
  /** Accept HTTP basic auth (default true). */
  basicAuth?: boolean;
  allowedResetTypes?: string[];
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string; cert: string };
  /** Delay every answer (a slow BMC). */
  delayMs?: number;
}

export interface SimRequest {
  method: string;
  path: string;
  auth: 'session' | 'basic' | 'none' | 'rejected';
}

export class RedfishSim {
  readonly systems = new Map<string, SimSystem>();
  readonly requests: SimRequest[] = [];
  readonly sessions = new Map<string, string>();
  delayMs: number;
  allowedResetTypes: string[];
  private server: Server | undefined;
  private nextSession = 1;

  constructor(private readonly options: RedfishSimOptions = {}) {
    this.delayMs = options.delayMs ?? 0;
    this.allowedResetTypes = options.allowedResetTypes ?? ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'PushPowerButton'];
    for (const id of options.systemIds ?? ['1']) {
      this.systems.set(id, {
        id,
        powerState: 'Off',
        boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'None', BootSourceOverrideMode: 'UEFI' },
        boots: [],
        resets: [],
        osHonoursAcpi: true,
        version: 1,
      });
    }
  }

  private get credentials(): { username: string; password: string } {
    return { username: this.options.username ?? 'admin', password: this.options.password ?? 'secret' };
  }

  system(id = '1'): SimSystem {
    return this.systems.get(id)!;
  }

  async start(port = 0): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      void this.handle(req, res).catch((err: unknown) => this.send(res, 500, errorBody('Base.1.8.InternalError', String(err))));
    };
    this.server = this.options.tls ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return this.url;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private boot(s: SimSystem): void {
    const { BootSourceOverrideEnabled: enabled, BootSourceOverrideTarget: target } = s.boot;
    s.boots.push(enabled !== 'Disabled' && target !== 'None' ? target : 'Hdd');
    if (enabled === 'Once') s.boot = { ...s.boot, BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'None' };
    s.powerState = 'On';
  }

  private reset(s: SimSystem, type: string): void {
    s.resets.push(type);
    switch (type) {
      case 'On':
      case 'ForceOn':
        if (s.powerState === 'Off') this.boot(s);
        break;
      case 'ForceOff':
        s.powerState = 'Off';
        break;
      case 'GracefulShutdown':
        if (s.osHonoursAcpi) s.powerState = 'Off';
        break;
      case 'PushPowerButton':
        if (s.powerState === 'Off') this.boot(s);
        else if (s.osHonoursAcpi) s.powerState = 'Off';
        break;
      case 'GracefulRestart':
        if (s.powerState === 'On' && s.osHonoursAcpi) this.boot(s);
        break;
      case 'ForceRestart':
      case 'PowerCycle':
        this.boot(s);
        break;
    }
    s.version++;
  }

  private authenticate(req: IncomingMessage): SimRequest['auth'] {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string') return this.sessions.has(token) ? 'session' : 'rejected';
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (!basic) return 'none';
    if (!(this.options.basicAuth ?? true)) return 'rejected';
    const [user, ...rest] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    return user === this.credentials.username && rest.join(':') === this.credentials.password ? 'basic' : 'rejected';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const path = new URL(req.url ?? '/', 'http://sim').pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    let body: Record<string, unknown> = {};
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return this.send(res, 400, errorBody('Base.1.8.MalformedJSON', 'The request body submitted was malformed JSON.'));
      }
    }
    const sessionsPath = '/redfish/v1/SessionService/Sessions';
    if (method === 'POST' && path === sessionsPath) {
      this.requests.push({ method, path, auth: 'none' });
      if (!(this.options.sessions ?? true)) return this.send(res, 405, errorBody('Base.1.8.OperationNotAllowed', 'Sessions are not supported.'));
      if (body.UserName !== this.credentials.username || body.Password !== this.credentials.password) {
        return this.send(res, 401, errorBody('Base.1.8.NoValidSession', 'Invalid user name or password.'));
      }
      const id = String(this.nextSession++);
      const token = randomBytes(16).toString('hex');
      this.sessions.set(token, id);
      const location = `${sessionsPath}/${id}`;
      return this.send(res, 201, { '@odata.id': location, '@odata.type': '#Session.v1_6_0.Session', Id: id, Name: 'User Session', UserName: body.UserName }, { 'x-auth-token': token, location });
    }
    if (method === 'GET' && (path === '/redfish/v1' || path === '/redfish')) {
      this.requests.push({ method, path, auth: 'none' });
      return this.send(res, 200, {
        '@odata.id': '/redfish/v1',
        '@odata.type': '#ServiceRoot.v1_15_0.ServiceRoot',
        Id: 'RootService',
        Name: 'Root Service',
        RedfishVersion: '1.17.0',
        Systems: { '@odata.id': '/redfish/v1/Systems' },
        SessionService: { '@odata.id': '/redfish/v1/SessionService' },
        Links: { Sessions: { '@odata.id': sessionsPath } },
      });
    }
    const auth = this.authenticate(req);
    this.requests.push({ method, path, auth });
    if (auth === 'none' || auth === 'rejected') {
      return this.send(res, 401, errorBody('Base.1.8.NoValidSession', 'There is no valid session established with the implementation.'), { 'www-authenticate': 'Basic realm="redfish-sim"' });
    }
    if (method === 'DELETE' && path.startsWith(`${sessionsPath}/`)) {
      const id = path.slice(sessionsPath.length + 1);
      for (const [token, sid] of this.sessions) if (sid === id) this.sessions.delete(token);
      return this.send(res, 204, undefined);
    }
    if (method === 'GET' && path === '/redfish/v1/Systems') {
      const members = [...this.systems.keys()].map((id) => ({ '@odata.id': `/redfish/v1/Systems/${id}` }));
      return this.send(res, 200, { '@odata.id': '/redfish/v1/Systems', '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection', Name: 'Computer System Collection', 'Members@odata.count': members.length, Members: members });
    }
    const m = /^\/redfish\/v1\/Systems\/([^/]+)(\/Actions\/ComputerSystem\.Reset)?$/.exec(path);
    const s = m ? this.systems.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !s) return this.send(res, 404, errorBody('Base.1.8.ResourceMissingAtURI', `The resource at the URI ${path} was not found.`));
    const etag = `W/"${s.version}"`;
    if (m[2]) {
      if (method !== 'POST') return this.send(res, 405, errorBody('Base.1.8.OperationNotAllowed', 'Use POST.'));
      const type = body.ResetType;
      if (typeof type !== 'string') return this.send(res, 400, errorBody('Base.1.8.ActionParameterMissing', 'The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.'));
      if (!this.allowedResetTypes.includes(type)) {
        return this.send(res, 400, errorBody('Base.1.8.ActionParameterValueNotInList', `The value ${type} for the parameter ResetType in the action ComputerSystem.Reset is not in the list of acceptable values.`));
      }
      this.reset(s, type);
      return this.send(res, 204, undefined);
    }
    if (method === 'GET') return this.send(res, 200, this.representation(s), { etag });
    if (method === 'PATCH') {
      const ifMatch = req.headers['if-match'];
      if (ifMatch && ifMatch !== etag) return this.send(res, 412, errorBody('Base.1.8.PreconditionFailed', 'The ETag supplied did not match the ETag required to change this resource.'));
      for (const key of Object.keys(body)) {
        if (key !== 'Boot') return this.send(res, 400, errorBody('Base.1.8.PropertyNotWritable', `The property ${key} is a read only property and cannot be assigned a value.`));
      }
      const boot = (body.Boot ?? {}) as Record<string, unknown>;
      const checks: [string, string[]][] = [
        ['BootSourceOverrideTarget', BOOT_TARGETS],
        ['BootSourceOverrideEnabled', BOOT_ENABLED],
        ['BootSourceOverrideMode', ['UEFI', 'Legacy']],
      ];
      for (const key of Object.keys(boot)) {
        const allowed = checks.find(([k]) => k === key)?.[1];
        if (!allowed) return this.send(res, 400, errorBody('Base.1.8.PropertyUnknown', `The property ${key} is not in the list of valid properties for the resource.`));
        if (!allowed.includes(String(boot[key]))) return this.send(res, 400, errorBody('Base.1.8.PropertyValueNotInList', `The value ${String(boot[key])} for the property ${key} is not in the list of acceptable values.`));
      }
      s.boot = { ...s.boot, ...(boot as Partial<SimSystem['boot']>) };
      s.version++;
      return this.send(res, 200, this.representation(s), { etag: `W/"${s.version}"` });
    }
    return this.send(res, 405, errorBody('Base.1.8.OperationNotAllowed', `${method} is not allowed here.`));
  }

  private representation(s: SimSystem): Record<string, unknown> {
    const base = `/redfish/v1/Systems/${s.id}`;
    return {
      '@odata.id': base,
      '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
      '@odata.etag': `W/"${s.version}"`,
      Id: s.id,
      Name: `Simulated system ${s.id}`,
      SystemType: 'Physical',
      PowerState: s.powerState,
      Status: { State: 'Enabled', Health: 'OK' },
      Boot: { ...s.boot, 'BootSourceOverrideTarget@Redfish.AllowableValues': BOOT_TARGETS },
      Actions: {
        '#ComputerSystem.Reset': { target: `${base}/Actions/ComputerSystem.Reset`, 'ResetType@Redfish.AllowableValues': this.allowedResetTypes },
      },
    };
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) return;
    res.writeHead(status, { ...(body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}), 'odata-version': '4.0', ...headers });
    res.end(body !== undefined ? JSON.stringify(body) : undefined);
  }
}

function errorBody(messageId: string, message: string): Record<string, unknown> {
  return { error: { code: messageId, message, '@Message.ExtendedInfo': [{ '@odata.type': '#Message.v1_1_1.Message', MessageId: messageId, Message: message }] } };
}
