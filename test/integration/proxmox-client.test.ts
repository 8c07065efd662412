// anvil's Proxmox VE client against the schema-driven simulator, on the PVE 8.4 and 9.1 schemas: the template build
// sequence (download-url -> create with import-from, cloud-init drive, serial console, agent -> resize -> template),
// failed tasks with their log, the error classification callers retry on, permissions, VMID races, TLS, and finally
// that every request the client sent was valid against the reference schema.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxmoxSimulator, pveReferenceAvailable, PVE_REFERENCE_DIR } from '../proxmox-sim/index.js';
import {
  importFileName,
  parseUpid,
  ProxmoxClient,
  ProxmoxError,
  ProxmoxTaskError,
  templateCreateParams,
  type TemplateVmOptions,
} from '@anvil/operator/src/proxmox/index.js';

const available = pveReferenceAvailable();
if (!available) {
  console.warn(`SKIPPED: the PVE API schema reference is absent (${PVE_REFERENCE_DIR}); the Proxmox client tests need it.`);
}
const maybe = available ? describe : describe.skip;

const IMAGE_URL = 'https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-amd64.img';
const FAST = { intervalMs: 5 };

function vmOptions(vmid: number, importVolume: string, overrides: Partial<TemplateVmOptions> = {}): TemplateVmOptions {
  return {
    vmid,
    name: `ubuntu-2404-v1`,
    importVolume,
    storage: 'local-lvm',
    cloudInitBus: 'ide',
    cores: 2,
    sockets: 1,
    memoryMiB: 2048,
    cpuType: 'x86-64-v2-AES',
    machine: 'q35',
    bios: 'seabios',
    bridge: 'vmbr0',
    vlan: 20,
    serialConsole: true,
    agent: true,
    tags: ['anvil', 'v1'],
    cloudInit: {
      user: 'ops',
      password: '$6$salt$hash',
      sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9u ops@example', 'ssh-rsa AAAAB3NzaC1yc2E= other'],
      ipConfig: 'ip=10.0.0.5/24,gw=10.0.0.1',
      nameservers: ['10.0.0.53', '2001:db8::53'],
      searchDomain: 'example.com',
    },
    ...overrides,
  };
}

maybe.each([8, 9] as const)('ProxmoxClient against the PVE %i.x simulator', (major) => {
  let sim: ProxmoxSimulator;
  let client: ProxmoxClient;
  let importVolume: string;

  beforeAll(async () => {
    sim = new ProxmoxSimulator({ pveMajor: major, taskDurationMs: 10 });
    await sim.start();
    sim.setUpstreamFile(IMAGE_URL, 'ubuntu noble qcow2 v1');
    client = new ProxmoxClient({ url: `${sim.url}/api2/json/`, node: 'pve', token: sim.token() });
  });

  afterAll(async () => {
    await sim?.idle();
    await client?.close();
    await sim?.stop();
  });

  it('reports the PVE version and a free VMID (PVE sends nextid as a string)', async () => {
    expect(await client.version()).toMatchObject({ release: major === 8 ? '8.4' : '9.1' });
    expect(await client.nextId()).toBe(100);
    expect(await client.isVmidFree(9000)).toBe(true);
  });

  it('downloads the image into the import storage with its checksum verified', async () => {
    const filename = importFileName(IMAGE_URL);
    const upid = await client.downloadUrl({
      storage: 'local',
      url: IMAGE_URL,
      filename,
      content: 'import',
      checksum: sim.upstreamChecksum(IMAGE_URL, 'sha512'),
      checksumAlgorithm: 'sha512',
    });
    expect(parseUpid(upid)).toMatchObject({ node: 'pve', type: 'download', user: 'anvil@pve!builder' });
    const result = await client.runTask(upid, FAST);
    expect(result).toEqual({ upid, type: 'download', ok: true, exitStatus: 'OK', logTail: [] });
    importVolume = `local:import/${filename}`;
    const content = await client.listStorageContent('local', 'import');
    expect(content).toEqual([expect.objectContaining({ volid: importVolume, format: 'qcow2', content: 'import' })]);
  });

  it('builds a template: create with import-from, cloud-init drive, serial console and agent, resize, convert', async () => {
    await client.runTask(client.createVm(templateCreateParams(vmOptions(9000, importVolume))), FAST);
    const created = (await client.getVmConfig(9000))!;
    expect(created).toMatchObject({
      name: 'ubuntu-2404-v1',
      scsi0: expect.stringMatching(/^local-lvm:vm-9000-disk-0,discard=on,iothread=1,size=\d+/),
      ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom',
      serial0: 'socket',
      vga: 'serial0',
      agent: 'enabled=1',
      net0: 'virtio,bridge=vmbr0,tag=20',
      ciuser: 'ops',
      cipassword: '**********',
      ipconfig0: 'ip=10.0.0.5/24,gw=10.0.0.1',
      nameserver: '10.0.0.53 2001:db8::53',
      tags: 'anvil;v1',
      cores: 2,
    });
    expect(decodeURIComponent(String(created.sshkeys))).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9u ops@example\nssh-rsa AAAAB3NzaC1yc2E= other');

    await client.runTask(client.resizeDisk(9000, 'scsi0', '20G'), FAST);
    expect(String((await client.getVmConfig(9000))!.scsi0)).toMatch(/,size=20G$/);

    await client.runTask(client.convertToTemplate(9000), FAST);
    const template = (await client.getVmConfig(9000))!;
    expect(template.template).toBe(1);
    expect(String(template.scsi0)).toMatch(/^local-lvm:base-9000-disk-0,/);
    expect(await client.listVms()).toEqual([expect.objectContaining({ vmid: 9000, name: 'ubuntu-2404-v1', template: true, status: 'stopped' })]);
    expect(await client.isVmidFree(9000)).toBe(false);
    expect(await client.nextId()).toBe(100);
  });

  it.each(['scsi', 'sata'] as const)('puts the cloud-init drive on the %s bus, with UEFI firmware', async (bus) => {
    const vmid = bus === 'scsi' ? 9010 : 9011;
    await client.runTask(client.createVm(templateCreateParams(vmOptions(vmid, importVolume, { cloudInitBus: bus, bios: 'ovmf', machine: 'i440fx', vlan: undefined }))), FAST);
    const config = (await client.getVmConfig(vmid))!;
    expect(config[bus === 'scsi' ? 'scsi1' : 'sata0']).toBe(`local-lvm:vm-${vmid}-cloudinit,media=cdrom`);
    expect(config).toMatchObject({ bios: 'ovmf', machine: 'pc', efidisk0: expect.stringMatching(/efitype=4m,pre-enrolled-keys=0,size=4M$/), net0: 'virtio,bridge=vmbr0' });
  });

  it('reports a failed task with its exit status and log tail', async () => {
    sim.failTasks('resize', { message: 'storage migration failed: out of space on volume group pve' });
    const result = await client.waitForTask(await client.resizeDisk(9010, 'scsi0', '+5G'), FAST);
    expect(result).toMatchObject({ type: 'resize', ok: false, exitStatus: 'storage migration failed: out of space on volume group pve' });
    expect(result.logTail.at(-1)).toBe('TASK ERROR: storage migration failed: out of space on volume group pve');

    sim.failTasks('qmtemplate');
    const err = await client.runTask(client.convertToTemplate(9010), FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxmoxTaskError);
    expect(err).toMatchObject({ code: 'lock', transient: true, exitStatus: "can't lock file '/var/lock/qemu-server/lock-9010.conf' - got timeout" });
    expect((err as ProxmoxTaskError).logTail).toEqual(["TASK ERROR: can't lock file '/var/lock/qemu-server/lock-9010.conf' - got timeout"]);
    await client.runTask(client.convertToTemplate(9010), FAST); // the retry the transient classification invites
  });

  it('times out on a lock another task holds, transiently, and succeeds once it is released', async () => {
    const release = sim.lockVm(9011);
    const sync = await client.updateVmConfig(9011, { description: 'x' }).catch((e: unknown) => e);
    expect(sync).toMatchObject({ status: 500, code: 'lock', transient: true, pveMessage: "can't lock file '/var/lock/qemu-server/lock-9011.conf' - got timeout" });
    const task = await client.waitForTask(await client.resizeDisk(9011, 'scsi0', '+1G'), FAST);
    expect(task).toMatchObject({ ok: false, exitStatus: "can't lock file '/var/lock/qemu-server/lock-9011.conf' - got timeout" });
    release();
    await client.updateVmConfig(9011, { description: 'built by anvil' });
    expect((await client.getVmConfig(9011))!.description).toBe('built by anvil');
  });

  it('fails a download whose checksum does not match, with PVE\'s message', async () => {
    const url = 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2';
    sim.setUpstreamFile(url, 'debian trixie');
    const result = await client.waitForTask(
      await client.downloadUrl({ storage: 'local', url, filename: importFileName(url), content: 'import', checksum: 'ab'.repeat(32), checksumAlgorithm: 'sha256' }),
      FAST,
    );
    expect(result.ok).toBe(false);
    expect(result.exitStatus).toBe(`checksum mismatch: got '${sim.upstreamChecksum(url)}' != expect '${'ab'.repeat(32)}'`);
    expect(result.logTail).toContain('calculating checksum...');
  });

  it('classifies 5xx and 596 answers and unreachable APIs as transient, so a retry succeeds', async () => {
    sim.failRequests({ method: 'POST', path: '/nodes/{node}/qemu', status: 596, times: 1 });
    const params = templateCreateParams(vmOptions(9020, importVolume));
    const e596 = await client.createVm(params).catch((e: unknown) => e);
    expect(e596).toBeInstanceOf(ProxmoxError);
    expect(e596).toMatchObject({ status: 596, code: 'unavailable', transient: true, pveMessage: 'Connection timed out' });
    expect(await client.isVmidFree(9020)).toBe(true); // nothing happened
    sim.failRequests({ path: /\/tasks\/.*\/status$/, status: 503, times: 2 });
    const upid = await client.createVm(params);
    const e503 = await client.waitForTask(upid, FAST).catch((e: unknown) => e);
    expect(e503).toMatchObject({ status: 503, transient: true });
    await expect(client.runTask(upid, FAST).catch(() => client.runTask(upid, FAST))).resolves.toMatchObject({ ok: true });

    const offline = new ProxmoxClient({ url: 'http://127.0.0.1:1', node: 'pve', token: sim.token(), requestTimeoutMs: 2000 });
    const down = await offline.version().catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'network', status: 0, transient: true });
    await offline.close();
  });

  it('refuses a token without privileges with PVE\'s 403 message, permanently', async () => {
    sim.deny('anvil@pve!builder', '/vms/9030', 'VM.Allocate');
    const err = await client.createVm(templateCreateParams(vmOptions(9030, importVolume))).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'permission', transient: false, pveMessage: 'Permission check failed (/vms/9030, VM.Allocate)' });
    sim.deny('anvil@pve!builder', '/storage/local', 'Datastore.AllocateTemplate');
    const dl = await client.downloadUrl({ storage: 'local', url: IMAGE_URL, filename: 'x.qcow2', content: 'import' }).catch((e: unknown) => e);
    expect(dl).toMatchObject({ status: 403, pveMessage: 'Permission check failed' });
    sim.allow('anvil@pve!builder', '/vms/9030');
    sim.allow('anvil@pve!builder', '/storage/local');

    const wrong = new ProxmoxClient({ url: sim.url, node: 'pve', token: 'anvil@pve!builder=not-the-secret' });
    expect(await wrong.version().catch((e: unknown) => e)).toMatchObject({ status: 401, code: 'auth', transient: false });
    expect(() => new ProxmoxClient({ url: sim.url, node: 'pve', token: 'anvil@pve:builder' })).toThrow(/USER@REALM!TOKENID=SECRET/);
  });

  it('detects VMID collisions: the create check, the race between check and task, concurrent creates', async () => {
    const taken = await client.createVm(templateCreateParams(vmOptions(9000, importVolume))).catch((e: unknown) => e);
    expect(taken).toMatchObject({ status: 500, code: 'already-exists', transient: false, pveMessage: 'unable to create VM 9000: config file already exists' });

    sim.raceCreate(9040);
    const raced = await client.waitForTask(await client.createVm(templateCreateParams(vmOptions(9040, importVolume))), FAST);
    expect(raced).toMatchObject({ ok: false, exitStatus: "VM 9040 already exists on node 'pve'" });
    expect(new ProxmoxTaskError(raced)).toMatchObject({ code: 'already-exists', transient: false });
    expect((await client.getVmConfig(9040))!.name).toBe('foreign-9040'); // the other VM is left alone

    // Two creates at once: the loser fails either at the synchronous check or in its task, always "already exists".
    const outcomes = await Promise.all(
      ['first', 'second'].map(async (name) => {
        try {
          const result = await client.waitForTask(await client.createVm(templateCreateParams(vmOptions(9041, importVolume, { name }))), FAST);
          return result.ok ? { name, ok: true } : { name, ok: false, error: new ProxmoxTaskError(result) as ProxmoxError };
        } catch (err) {
          return { name, ok: false, error: err as ProxmoxError };
        }
      }),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.find((o) => !o.ok)!.error).toMatchObject({ code: 'already-exists', transient: false });
    const winner = outcomes.find((o) => o.ok)!.name;
    expect((await client.getVmConfig(9041))!.name).toBe(winner);
  });

  it('controls power, clones the template and deletes VMs with their disks', async () => {
    const start = await client.waitForTask(await client.powerAction(9000, 'start'), FAST);
    expect(start).toMatchObject({ ok: false, exitStatus: "you can't start a vm if it's a template" });

    await client.runTask(client.cloneVm(9000, 9050, { name: 'clone-1', full: true }), FAST);
    await client.runTask(client.powerAction(9050, 'start'), FAST);
    expect(await client.vmStatus(9050)).toMatchObject({ vmid: 9050, status: 'running', template: false, name: 'clone-1' });
    expect(await client.deleteVm(9050).catch((e: unknown) => e)).toMatchObject({ status: 500, pveMessage: 'VM 9050 is running - destroy failed' });
    await client.runTask(client.powerAction(9050, 'shutdown', { timeout: 60 }), FAST);
    expect((await client.vmStatus(9050)).status).toBe('stopped');
    await client.runTask(client.deleteVm(9050, { purge: true, destroyUnreferencedDisks: true }), FAST);
    expect(await client.getVmConfig(9050)).toBeUndefined();
    expect((await client.listStorageContent('local-lvm')).filter((v) => v.vmid === 9050)).toEqual([]);
    expect(await client.vmStatus(9050).catch((e: unknown) => e)).toMatchObject({ code: 'not-found', transient: false });
  });

  it('sent only requests that are valid against the reference schema', () => {
    expect(sim.requests.length).toBeGreaterThan(50);
    expect(sim.invalidRequests()).toEqual([]);
    const unchecked = new Set(sim.requests.filter((r) => !r.schemaChecked).map((r) => `${r.method} ${r.template}`));
    expect([...unchecked].sort()).toEqual(['DELETE /nodes/{node}/qemu/{vmid}', 'GET /nodes/{node}/tasks/{upid}/log']);
    const templates = new Set(sim.requests.map((r) => `${r.method} ${r.template}`));
    for (const used of [
      'GET /version',
      'GET /cluster/nextid',
      'POST /nodes/{node}/storage/{storage}/download-url',
      'GET /nodes/{node}/storage/{storage}/content',
      'POST /nodes/{node}/qemu',
      'GET /nodes/{node}/qemu/{vmid}/config',
      'PUT /nodes/{node}/qemu/{vmid}/config',
      'PUT /nodes/{node}/qemu/{vmid}/resize',
      'POST /nodes/{node}/qemu/{vmid}/template',
      'POST /nodes/{node}/qemu/{vmid}/clone',
      'GET /nodes/{node}/qemu/{vmid}/status/current',
      'POST /nodes/{node}/qemu/{vmid}/status/start',
      'POST /nodes/{node}/qemu/{vmid}/status/shutdown',
      'GET /nodes/{node}/tasks/{upid}/status',
    ]) {
      expect(templates).toContain(used);
    }
  });
});

maybe('the simulator verifies parameters as PVE does', () => {
  let sim: ProxmoxSimulator;
  let raw: (method: string, path: string, params?: Record<string, string>) => Promise<{ status: number; statusText: string; body: unknown }>;

  beforeAll(async () => {
    sim = new ProxmoxSimulator({ pveMajor: 9, taskDurationMs: 5 });
    await sim.start();
    raw = async (method, path, params = {}) => {
      const form = new URLSearchParams(params).toString();
      const get = method === 'GET' || method === 'DELETE';
      const res = await fetch(`${sim.url}/api2/json${path}${get && form ? `?${form}` : ''}`, {
        method,
        headers: { Authorization: `PVEAPIToken=${sim.token()}`, ...(get ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }) },
        ...(get ? {} : { body: form }),
      });
      const text = await res.text();
      return { status: res.status, statusText: res.statusText, body: text ? JSON.parse(text) : undefined };
    };
  });

  afterAll(async () => {
    await sim?.idle();
    await sim?.stop();
  });

  const create = (extra: Record<string, string>) => raw('POST', '/nodes/pve/qemu', { vmid: '100', ...extra });

  it('refuses unknown parameters with PVE\'s error shape', async () => {
    const res = await create({ bogus: '1' });
    expect(res.status).toBe(400);
    expect(res.statusText).toBe('Parameter verification failed.');
    expect(res.body).toEqual({
      data: null,
      errors: { bogus: 'property is not defined in schema and the schema does not allow additional properties' },
      message: 'Parameter verification failed.\n',
    });
    expect(sim.invalidRequests().at(-1)).toMatchObject({ template: '/nodes/{node}/qemu', valid: false, status: 400 });
  });

  it('checks types, enums, ranges, patterns and indexed option names', async () => {
    const res = await create({ cores: 'two', bios: 'uefi', memory: '8', scsi31: 'local-lvm:8', serial0: 'tty', template: 'true', vmid: '99' });
    expect((res.body as { errors: Record<string, string> }).errors).toEqual({
      cores: "type check ('integer') failed - got 'two'",
      bios: "value 'uefi' does not have a value in the enumeration 'seabios, ovmf'",
      memory: 'invalid format - format error\nmemory.current: value must have a minimum value of 16\n',
      scsi31: 'property is not defined in schema and the schema does not allow additional properties',
      serial0: 'value does not match the regex pattern',
      template: "type check ('boolean') failed - got 'true'",
      vmid: 'invalid format - value does not look like a valid VM ID\n',
    });
  });

  it('checks property strings and their sub-formats (import-from, ipconfig, net, sshkeys)', async () => {
    const res = await create({
      scsi0: 'local-lvm:0,import-from=not a volume',
      ide2: 'local-lvm:cloudinit,bogus=1',
      net0: 'virtio,bridge=vmbr0,tag=5000',
      ipconfig0: 'ip=10.0.0.5,gw=10.0.0.1',
      sshkeys: 'ssh-ed25519 AAAA key',
      agent: 'enabled=yes,type=virtio',
    });
    const errors = (res.body as { errors: Record<string, string> }).errors;
    expect(errors.scsi0).toBe("invalid format - format error\nscsi0.import-from: invalid format - unable to parse volume ID 'not a volume'\n\n");
    expect(errors.ide2).toBe('invalid format - invalid key in comma-separated list property: bogus\n');
    expect(errors.net0).toBe('invalid format - format error\nnet0.tag: value must have a maximum value of 4094\n');
    expect(errors.ipconfig0).toBe('invalid format - format error\nipconfig0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n');
    expect(errors.sshkeys).toBe('invalid format - invalid urlencoded string: ssh-ed25519 AAAA key\n');
    expect(errors.agent).toBeUndefined(); // property-string booleans accept yes/no, as PVE's parser does
  });

  it('checks download-url: required parameters, requires, and the import file name (no .img, no compression)', async () => {
    const missing = await raw('POST', '/nodes/pve/storage/local/download-url', { url: 'https://x/a.qcow2', checksum: 'ab' });
    expect((missing.body as { errors: Record<string, string> }).errors).toEqual({
      content: 'property is missing and it is not optional',
      filename: 'property is missing and it is not optional',
      'checksum-algorithm': "missing property - 'checksum' requires this property",
    });
    for (const filename of ['noble.img', 'Arch-Linux-x86_64-cloudimg.qcow2.xz']) {
      const res = await raw('POST', '/nodes/pve/storage/local/download-url', { url: 'https://x/a', content: 'import', filename });
      expect([filename, res.status, (res.body as { errors: unknown }).errors]).toEqual([filename, 400, { filename: 'invalid filename or wrong extension' }]);
    }
    const lvm = await raw('POST', '/nodes/pve/storage/local-lvm/download-url', { url: 'https://x/a', content: 'import', filename: 'a.qcow2' });
    expect([lvm.status, lvm.statusText]).toEqual([500, "can't upload to storage type 'lvmthin', not a file based storage!"]);
  });

  it('answers unknown paths with 501, missing VMs with PVE\'s message and no token with a bodiless 401', async () => {
    expect(await raw('GET', '/nodes/pve/qemu/100/snapshot')).toMatchObject({ status: 501, statusText: "Method 'GET /nodes/pve/qemu/100/snapshot' not implemented" });
    expect(await raw('GET', '/nodes/pve/qemu/123/config')).toMatchObject({
      status: 500,
      body: { data: null, message: "Configuration file 'nodes/pve/qemu-server/123.conf' does not exist\n" },
    });
    const res = await fetch(`${sim.url}/api2/json/version`);
    expect([res.status, res.statusText, await res.text()]).toEqual([401, 'No ticket', '']);
  });
});

maybe('ProxmoxClient over HTTPS', () => {
  let dir: string;
  let sim: ProxmoxSimulator;
  let ca: string;
  let haveOpenssl = true;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'anvil-pve-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=pve.test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    } catch {
      haveOpenssl = false;
      return;
    }
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    sim = new ProxmoxSimulator({ pveMajor: 8, tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: ca } });
    await sim.start();
  });

  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the certificate against the CA bundle, refuses an unknown CA permanently, and allows explicit insecure', async () => {
    if (!haveOpenssl) throw new Error('openssl is needed for this test (scripts/setup.sh installs it)');
    const trusted = new ProxmoxClient({ url: sim.url, node: 'pve', token: sim.token(), ca });
    expect((await trusted.version()).release).toBe('8.4');
    await trusted.close();
    const untrusted = new ProxmoxClient({ url: sim.url, node: 'pve', token: sim.token() });
    expect(await untrusted.version().catch((e: unknown) => e)).toMatchObject({ code: 'tls', transient: false });
    const insecure = new ProxmoxClient({ url: sim.url, node: 'pve', token: sim.token(), insecureSkipTLSVerify: true });
    expect((await insecure.version()).version).toBe('8.4.1');
    await insecure.close();
  });
});
