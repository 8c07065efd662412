// Redfish (DMTF DSP0266) ComputerSystem power control over HTTP(S) with undici: a session (X-Auth-Token) when the
// service offers one, HTTP basic auth otherwise; reset types chosen from what the system says it allows.
import { Agent, request, type Dispatcher } from 'undici';
import type { BootMode } from '@anvil/core/api';
import type { RedfishAuth } from './address.js';
import { PowerError, type BmcCredentials, type DriverCapabilities, type PowerDriver, type PowerMode, type PowerState } from './driver.js';

export interface RedfishTarget {
  /** e.g. https://10.0.0.5:443 */
  origin: string;
  /** e.g. /redfish/v1/Systems/1; discovered when the service has exactly one system. */
  systemPath: string | undefined;
  auth: RedfishAuth;
}

export interface RedfishOptions {
  target: RedfishTarget;
  credentials: BmcCredentials;
  insecureTLS: boolean;
  bootMode: BootMode;
  timeoutMs: number;
}

interface ComputerSystem {
  PowerState?: string;
  Boot?: Record<string, unknown>;
  Actions?: Record<string, { target?: string; 'ResetType@Redfish.AllowableValues'?: string[]; '@Redfish.ActionInfo'?: string }>;
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

const SESSIONS_PATH = '/redfish/v1/SessionService/Sessions';
const TLS_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|UNABLE_TO_GET_ISSUER/;

export class RedfishDriver implements PowerDriver {
  readonly kind = 'redfish';
  readonly capabilities: DriverCapabilities = { readPowerState: true, powerOff: true, reset: true, softReset: true, bootOnce: true };
  private readonly agent: Agent;
  private readonly username: string;
  private readonly password: string;
  private auth: { mode: 'session'; token: string; uri: string | undefined } | { mode: 'basic' } | undefined;
  private systemPath: string | undefined;

  constructor(private readonly options: RedfishOptions) {
    const { username, password } = options.credentials;
    if (!username || password === undefined) throw new PowerError('InvalidConfig', 'the credentials Secret needs "username" and "password" keys for Redfish');
    this.username = username;
    this.password = password;
    this.systemPath = options.target.systemPath;
    this.agent = new Agent({ connect: { rejectUnauthorized: !options.insecureTLS, timeout: options.timeoutMs }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  }

  private get where(): string {
    return `Redfish service ${this.options.target.origin}`;
  }

  async validate(): Promise<void> {
    await this.system();
  }

  async powerState(): Promise<PowerState> {
    const { system } = await this.system();
    switch (system.PowerState) {
      case 'On':
      case 'PoweringOn':
      case 'Paused':
        return 'On';
      case 'Off':
      case 'PoweringOff':
        return 'Off';
      default:
        return 'Unknown';
    }
  }

  powerOn(): Promise<void> {
    return this.resetAction(['On', 'ForceOn', 'PushPowerButton'], 'power on');
  }

  powerOff(mode: PowerMode): Promise<void> {
    return mode === 'Soft' ? this.resetAction(['GracefulShutdown', 'PushPowerButton'], 'shut down') : this.resetAction(['ForceOff'], 'power off');
  }

  reset(mode: PowerMode): Promise<void> {
    return mode === 'Soft' ? this.resetAction(['GracefulRestart'], 'restart gracefully') : this.resetAction(['ForceRestart', 'PowerCycle'], 'reset');
  }

  async setNextBootNetwork(): Promise<void> {
    const { path, system, etag } = await this.system();
    const allowed = system.Boot?.['BootSourceOverrideTarget@Redfish.AllowableValues'];
    if (Array.isArray(allowed) && !allowed.includes('Pxe')) {
      throw new PowerError('Unsupported', `${this.where}: ${path} does not allow network boot (BootSourceOverrideTarget allows ${allowed.join(', ')})`);
    }
    const boot: Record<string, string> = { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' };
    if (system.Boot && 'BootSourceOverrideMode' in system.Boot) boot.BootSourceOverrideMode = this.options.bootMode === 'UEFI' ? 'UEFI' : 'Legacy';
    let res = await this.call('PATCH', path, { Boot: boot }, etag ? { 'if-match': etag } : {});
    if (res.status === 412) {
      // The system changed between our read and write: read the new ETag and try once more.
      const fresh = await this.system();
      res = await this.call('PATCH', path, { Boot: boot }, fresh.etag ? { 'if-match': fresh.etag } : {});
    }
    this.expectOk(res, `set the next boot to the network (PATCH ${path})`);
  }

  async close(): Promise<void> {
    const auth = this.auth;
    this.auth = undefined;
    if (auth?.mode === 'session' && auth.uri) {
      await request(new URL(auth.uri, this.options.target.origin), {
        method: 'DELETE',
        headers: { 'x-auth-token': auth.token },
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      })
        .then((r) => r.body.dump())
        .catch(() => undefined);
    }
    await this.agent.close().catch(() => undefined);
  }

  private async resetAction(preferred: string[], what: string): Promise<void> {
    const { path, system } = await this.system();
    const action = system.Actions?.['#ComputerSystem.Reset'];
    if (!action?.target) throw new PowerError('Unsupported', `${this.where}: ${path} offers no #ComputerSystem.Reset action`);
    const allowed = await this.allowedResetTypes(action);
    const type = preferred.find((t) => !allowed || allowed.includes(t));
    if (!type) {
      throw new PowerError('Unsupported', `${this.where}: cannot ${what}: ${path} allows ResetType ${allowed!.join(', ')}, none of ${preferred.join(', ')}`);
    }
    const res = await this.call('POST', action.target, { ResetType: type });
    this.expectOk(res, `${what} (ResetType ${type})`);
  }

  /** ResetType@Redfish.AllowableValues, or the ActionInfo resource's; undefined means the service did not say. */
  private async allowedResetTypes(action: NonNullable<ComputerSystem['Actions']>[string]): Promise<string[] | undefined> {
    if (action['ResetType@Redfish.AllowableValues']) return action['ResetType@Redfish.AllowableValues'];
    const info = action['@Redfish.ActionInfo'];
    if (!info) return undefined;
    const res = await this.call('GET', info);
    if (res.status !== 200) return undefined;
    const params = (res.body as { Parameters?: { Name?: string; AllowableValues?: string[] }[] }).Parameters;
    return params?.find((p) => p.Name === 'ResetType')?.AllowableValues;
  }

  private async system(): Promise<{ path: string; system: ComputerSystem; etag: string | undefined }> {
    const path = this.systemPath ?? (await this.discoverSystem());
    const res = await this.call('GET', path);
    if (res.status === 404) throw new PowerError('InvalidConfig', `${this.where} has no system at ${path}; check the path in spec.bmc.address`, 'SystemNotFound');
    this.expectOk(res, `read ${path}`);
    const etag = res.headers.etag;
    return { path, system: res.body as ComputerSystem, etag: typeof etag === 'string' ? etag : undefined };
  }

  private async discoverSystem(): Promise<string> {
    const res = await this.call('GET', '/redfish/v1/Systems');
    this.expectOk(res, 'list /redfish/v1/Systems');
    const members = ((res.body as { Members?: { '@odata.id'?: string }[] }).Members ?? []).map((m) => m['@odata.id']).filter((m): m is string => !!m);
    if (members.length !== 1) {
      throw new PowerError(
        'InvalidConfig',
        members.length
          ? `${this.where} manages ${members.length} systems (${members.join(', ')}); name one in spec.bmc.address`
          : `${this.where} lists no systems`,
        'SystemNotFound',
      );
    }
    this.systemPath = members[0]!;
    return this.systemPath;
  }

  /** One request with authentication; a session that expired is renewed once. */
  private async call(method: Dispatcher.HttpMethod, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authenticate();
      const res = await this.send(method, path, body, { ...headers, ...this.authHeaders(auth) });
      if (res.status !== 401) return res;
      if (auth.mode === 'session' && attempt === 0) {
        this.auth = undefined;
        continue;
      }
      throw new PowerError('Unauthorized', `${this.where} refused the credentials of user "${this.username}" (${auth.mode} auth)`);
    }
  }

  private authHeaders(auth: NonNullable<RedfishDriver['auth']>): Record<string, string> {
    return auth.mode === 'session'
      ? { 'x-auth-token': auth.token }
      : { authorization: `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}` };
  }

  private async authenticate(): Promise<NonNullable<RedfishDriver['auth']>> {
    if (this.auth) return this.auth;
    if (this.options.target.auth === 'basic') return (this.auth = { mode: 'basic' });
    const res = await this.send('POST', SESSIONS_PATH, { UserName: this.username, Password: this.password }, {});
    if (res.status === 401 || res.status === 403) {
      throw new PowerError('Unauthorized', `${this.where} refused the credentials of user "${this.username}" (session login)`);
    }
    if ((res.status === 404 || res.status === 405 || res.status === 501) && this.options.target.auth === 'auto') return (this.auth = { mode: 'basic' });
    this.expectOk(res, 'create a session');
    const token = res.headers['x-auth-token'];
    if (typeof token !== 'string' || !token) throw new PowerError('Protocol', `${this.where} created a session without an X-Auth-Token header`);
    const location = res.headers.location;
    const uri = typeof location === 'string' ? location : ((res.body as { '@odata.id'?: string } | undefined)?.['@odata.id'] ?? undefined);
    return (this.auth = { mode: 'session', token, uri });
  }

  private async send(method: Dispatcher.HttpMethod, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    const url = new URL(path, this.options.target.origin);
    try {
      const res = await request(url, {
        method,
        headers: { accept: 'application/json', 'odata-version': '4.0', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await res.body.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: res.statusCode, headers: res.headers as Response['headers'], body: parsed };
    } catch (err) {
      throw this.networkError(err, `${method} ${url.pathname}`);
    }
  }

  private networkError(err: unknown, what: string): PowerError {
    const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.code ?? e.cause?.code ?? '';
    const message = e.cause?.message ?? e.message ?? String(err);
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || /TIMEOUT/.test(code)) {
      return new PowerError('Timeout', `${this.where} did not answer ${what} within ${this.options.timeoutMs / 1000} s`);
    }
    if (TLS_ERRORS.test(code)) {
      return new PowerError(
        'Unreachable',
        `${this.where}: TLS certificate not trusted (${message}); give the BMC a trusted certificate, or set spec.bmc.disableCertificateVerification: true for a lab`,
        'CertificateNotTrusted',
      );
    }
    if (code === 'ECONNREFUSED') return new PowerError('Unreachable', `${this.where} refuses connections (nothing listens on that port)`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new PowerError('Unreachable', `${this.where}: cannot resolve the host name`);
    return new PowerError('Unreachable', `${this.where} is unreachable: ${code ? `${code}: ` : ''}${message}`);
  }

  private expectOk(res: Response, what: string): void {
    if (res.status >= 200 && res.status < 300) return;
    const err = (res.body as { error?: { message?: string; '@Message.ExtendedInfo'?: { Message?: string }[] } } | undefined)?.error;
    const detail = err?.['@Message.ExtendedInfo']?.map((i) => i.Message).filter(Boolean).join('; ') || err?.message || (typeof res.body === 'string' ? res.body.slice(0, 200) : '');
    const kind = res.status === 403 ? 'Unauthorized' : res.status === 501 || res.status === 405 ? 'Unsupported' : 'Protocol';
    throw new PowerError(kind, `${this.where} could not ${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`);
  }
}
