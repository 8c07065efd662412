// The ProxmoxTemplate controller on a real kube-apiserver against the schema-driven PVE simulator (8.4 and 9.1):
// a full build from a catalog distribution, an operator restart mid-build, two templates building at once in one
// VMID range with a VMID race, an upstream update building version 2 next to version 1, rollback by pin, pruning,
// failures reported with PVE's message and task log and then retried, deletion with and without retain, adoption of
// retained templates by a re-created object, and finally: every request anvil sent was valid against the schema.
import { jest } from '@jest/globals';
import { anvilCrds, type ProxmoxTemplate } from '@anvil/core/api';
import { MemoryHistoryStore } from '@anvil/core/db';
import { CoreResources, type KubeClient, type KubeObject } from '@anvil/core/kube';
import { silentLogger } from '@anvil/core/logging';
import { registerControllers } from '@anvil/operator/src/controllers/index.js';
import { ProxmoxTemplateType } from '@anvil/operator/src/controllers/proxmoxtemplate/controller.js';
import { httpFetchText } from '@anvil/operator/src/controllers/proxmoxtemplate/kube-ports.js';
import { catalogEntry, ProxmoxClient } from '@anvil/operator/src/proxmox/index.js';
import { Manager } from '@anvil/operator/src/runtime/manager.js';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { clientFor, ensureNamespace, installCrds, waitFor } from '../harness/kube.js';
import { ProxmoxSimulator, pveReferenceAvailable, PVE_REFERENCE_DIR } from '../proxmox-sim/index.js';

jest.setTimeout(240_000);

type Template = ProxmoxTemplate & KubeObject;
const ns = 'pxt';
const available = pveReferenceAvailable();
if (!available) console.warn(`SKIPPED: the PVE API schema reference is absent (${PVE_REFERENCE_DIR}); the ProxmoxTemplate controller test needs it.`);
const maybe = available ? describe : describe.skip;

const UBUNTU = catalogEntry('ubuntu-24.04')!;
const UBUNTU_SUMS = (UBUNTU.checksum as { url: string }).url;
const UBUNTU_FILE = UBUNTU.imageUrl.split('/').pop()!;
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9u ops@example';

maybe('ProxmoxTemplate controller on a real API server and the PVE simulator', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  const sims = new Map<8 | 9, ProxmoxSimulator>();
  const pve = new Map<8 | 9, ProxmoxClient>();
  const history = new MemoryHistoryStore();
  /** What the operator reads for checksum files on the internet (the catalog's); everything else is real HTTP. */
  const internet = new Map<string, string>();
  const fetchText = async (url: string): Promise<string> => {
    const text = internet.get(url);
    return text ?? httpFetchText(url);
  };

  const startOperator = async (): Promise<Manager> => {
    const m = new Manager({ client: clientFor(cp), log: silentLogger(), identity: 'test', namespaces: [ns] });
    registerControllers(m, {
      maxConcurrentReconciles: 3,
      log: silentLogger(),
      bootServerURL: 'http://10.0.0.2:8080',
      proxmox: { taskPollMs: 100, minCheckIntervalMs: 1_000, retryBaseMs: 500, retryMaxMs: 2_000, cleanupTaskTimeoutMs: 20_000, history, fetchText },
    });
    await m.start();
    return m;
  };

  /** Publishes an Ubuntu image on every simulator's upstream and its SHA256SUMS on the "internet". */
  const publishUbuntu = (content: string): void => {
    for (const sim of sims.values()) sim.setUpstreamFile(UBUNTU.imageUrl, content, { virtualSize: 3.5 * 1024 ** 3 });
    internet.set(UBUNTU_SUMS, `${sims.get(9)!.upstreamChecksum(UBUNTU.imageUrl)} *${UBUNTU_FILE}\n0123abcd${'0'.repeat(56)} *ubuntu-24.04-server-cloudimg-arm64.img\n`);
  };

  const get = async (name: string): Promise<Template | undefined> => client.get<Template>(ProxmoxTemplateType, { namespace: ns, name });
  const waitTemplate = async (name: string, what: string, ok: (t: Template) => boolean, timeoutMs = 30_000): Promise<Template> => {
    try {
      return await waitFor(`${name}: ${what}`, async () => {
        const t = await get(name);
        return t && ok(t) ? t : undefined;
      }, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}; status: ${JSON.stringify((await get(name))?.status)}`);
    }
  };
  const cond = (t: Template, type: string) => t.status?.conditions?.find((c) => c.type === type);
  const events = async (name: string): Promise<{ reason?: string; note?: string; type?: string }[]> => {
    await manager.recorder.flush();
    const list = await client.list<KubeObject & { reason?: string; note?: string; type?: string; regarding?: { name?: string } }>(CoreResources.event, { namespace: ns });
    return list.items.filter((e) => e.regarding?.name === name);
  };
  const template = (name: string, major: 8 | 9, spec: Partial<ProxmoxTemplate['spec']>): KubeObject => ({
    apiVersion: 'anvil.dev/v1alpha1',
    kind: 'ProxmoxTemplate',
    metadata: { name, namespace: ns },
    spec: {
      connection: { url: sims.get(major)!.url, node: 'pve', tokenSecretRef: { name: `pve${major}-token` } },
      source: { distribution: 'ubuntu-24.04' },
      ...spec,
    },
  });
  const requests = (major: 8 | 9, method: string, template: string) => sims.get(major)!.requests.filter((r) => r.method === method && r.template === template);

  beforeAll(async () => {
    for (const major of [8, 9] as const) {
      const sim = new ProxmoxSimulator({ pveMajor: major, taskDurationMs: 50 });
      await sim.start();
      sims.set(major, sim);
      pve.set(major, new ProxmoxClient({ url: sim.url, node: 'pve', token: sim.token() }));
    }
    publishUbuntu('ubuntu noble 20261201');
    cp = await startControlPlane();
    client = clientFor(cp);
    await installCrds(client, anvilCrds as unknown as KubeObject[]);
    await ensureNamespace(client, ns);
    for (const major of [8, 9] as const) {
      await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `pve${major}-token`, namespace: ns }, stringData: { token: sims.get(major)!.token() } });
    }
    await client.create(CoreResources.secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ci-password', namespace: ns }, stringData: { password: '$6$salt$hash' } });
    manager = await startOperator();
  });

  afterAll(async () => {
    await manager?.stop();
    await cp?.stop();
    for (const c of pve.values()) await c.close();
    for (const sim of sims.values()) {
      await sim.idle();
      await sim.stop();
    }
  });

  it.each([8, 9] as const)('builds a template from a catalog distribution on PVE %i (download, create, resize, convert)', async (major) => {
    const name = `ubuntu-${major}`;
    await client.create(
      ProxmoxTemplateType,
      template(name, major, {
        vm: { vmidRange: { min: 9000, max: 9099 }, diskSize: '20G', tags: ['base'], vlan: 20 },
        cloudInit: { user: 'ops', sshKeys: [SSH_KEY], passwordSecretRef: { name: 'ci-password' } },
      }),
    );
    const t = await waitTemplate(name, 'Ready', (x) => x.status?.phase === 'Ready');
    expect(t.status).toMatchObject({
      vmid: 9000,
      templateName: `${name}-v1`,
      activeVersion: 1,
      imageURL: UBUNTU.imageUrl,
      imageChecksum: sims.get(major)!.upstreamChecksum(UBUNTU.imageUrl),
      pveVersion: major === 8 ? '8.4.1' : '9.1.2',
      observedGeneration: t.metadata.generation,
    });
    expect(t.status?.versions).toEqual([expect.objectContaining({ version: 1, vmid: 9000, name: `${name}-v1`, imageURL: UBUNTU.imageUrl })]);
    expect(t.status?.build).toBeUndefined();
    expect(t.status?.currentTask).toBeUndefined();
    expect(cond(t, 'Ready')).toMatchObject({ status: 'True', reason: 'TemplateReady', observedGeneration: t.metadata.generation });
    expect(cond(t, 'Connected')).toMatchObject({ status: 'True', message: expect.stringContaining(major === 8 ? '8.4.1' : '9.1.2') });
    expect(cond(t, 'SourceResolved')?.status).toBe('True');
    expect(cond(t, 'Building')).toMatchObject({ status: 'False', reason: 'Idle' });

    const config = (await pve.get(major)!.getVmConfig(9000))!;
    expect(config).toMatchObject({
      template: 1,
      name: `${name}-v1`,
      ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom',
      serial0: 'socket',
      agent: 'enabled=1',
      net0: expect.stringMatching(/bridge=vmbr0,tag=20/),
      ciuser: 'ops',
      cipassword: '**********',
      tags: 'anvil;anvil-v1;base',
    });
    expect(String(config.scsi0)).toMatch(/^local-lvm:base-9000-disk-0,.*size=20G$/);
    expect(String(config.description)).toContain(`anvil.dev/owner=${ns}/${name}`);
    expect(decodeURIComponent(String(config.sshkeys))).toBe(SSH_KEY);
    const imported = await pve.get(major)!.listStorageContent('local', 'import');
    expect(imported.map((v) => v.volid)).toEqual([expect.stringMatching(/^local:import\/ubuntu-24\.04-server-cloudimg-amd64-[0-9a-f]{12}\.qcow2$/)]);

    const reasons = (await events(name)).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['BuildStarted', 'Downloaded', 'Created', 'BuildSucceeded']));
    const builds = await history.listTemplateBuilds({ namespace: ns, name });
    expect(builds.items).toEqual([expect.objectContaining({ version: '1', result: 'SUCCESS', vmid: 9000 })]);
  });

  it('resumes a build after an operator restart without creating anything twice', async () => {
    const sim = sims.get(9)!;
    const url = sim.upstreamUrl('debian/13/debian-13-genericcloud-amd64.qcow2');
    sim.setUpstreamFile(url, 'debian trixie 20261201');
    // A checksum file served over real HTTP, as a mirror publishes it.
    sim.setUpstreamFile(sim.upstreamUrl('debian/13/SHA512SUMS'), `${sim.upstreamChecksum(url, 'sha512')}  debian-13-genericcloud-amd64.qcow2\n`, { contentType: 'text/plain' });
    const release = sim.holdTasks('qmcreate');
    await client.create(
      ProxmoxTemplateType,
      template('debian', 9, {
        source: { url, checksum: { url: sim.upstreamUrl('debian/13/SHA512SUMS'), algorithm: 'sha512' } },
        vm: { vmidRange: { min: 9200, max: 9299 }, cloudInitBus: 'scsi' },
      }),
    );
    const mid = await waitTemplate('debian', 'creating', (t) => t.status?.phase === 'Creating' && t.status.currentTask?.type === 'qmcreate');
    expect(mid.status?.build).toMatchObject({ version: 1, vmid: 9200, step: 'create' });
    expect(cond(mid, 'Building')).toMatchObject({ status: 'True', reason: 'Creating' });

    await manager.stop();
    manager = await startOperator();
    release();
    const t = await waitTemplate('debian', 'Ready after the restart', (x) => x.status?.phase === 'Ready');
    expect(t.status).toMatchObject({ vmid: 9200, activeVersion: 1 });
    expect(requests(9, 'POST', '/nodes/{node}/qemu').filter((r) => r.params.name === 'debian-v1')).toHaveLength(1);
    expect(requests(9, 'POST', '/nodes/{node}/storage/{storage}/download-url').filter((r) => r.params.url === url)).toHaveLength(1);
    expect((await pve.get(9)!.getVmConfig(9200))!).toMatchObject({ template: 1, scsi1: 'local-lvm:vm-9200-cloudinit,media=cdrom' });
  });

  it('builds two templates at once in one VMID range, around a VMID taken mid-create', async () => {
    const sim = sims.get(9)!;
    sim.raceCreate(9300); // someone else creates VM 9300 just before the first create's task does
    const range = { vmidRange: { min: 9300, max: 9309 } };
    await Promise.all([
      client.create(ProxmoxTemplateType, template('alpha', 9, { vm: range })),
      client.create(ProxmoxTemplateType, template('beta', 9, { vm: range })),
    ]);
    const [alpha, beta] = await Promise.all([
      waitTemplate('alpha', 'Ready', (t) => t.status?.phase === 'Ready'),
      waitTemplate('beta', 'Ready', (t) => t.status?.phase === 'Ready'),
    ]);
    const vmids = [alpha.status!.vmid!, beta.status!.vmid!];
    expect(new Set(vmids).size).toBe(2);
    for (const vmid of vmids) expect(vmid).toBeGreaterThan(9300);
    expect((await pve.get(9)!.getVmConfig(9300))!.name).toBe('foreign-9300');
    const taken = [...(await events('alpha')), ...(await events('beta'))].filter((e) => e.reason === 'VMIDTaken');
    expect(taken.length).toBeGreaterThanOrEqual(1);
  });

  it('builds version 2 when the upstream image changes, keeps version 1, rolls back by pin and prunes', async () => {
    const before = (await get('ubuntu-9'))!;
    publishUbuntu('ubuntu noble 20261215');
    await client.patch(ProxmoxTemplateType, { namespace: ns, name: 'ubuntu-9' }, 'merge', { spec: { source: { checkIntervalSeconds: 1 } } });
    const t = await waitTemplate('ubuntu-9', 'version 2', (x) => x.status?.phase === 'Ready' && x.status.activeVersion === 2);
    const v1 = before.status!.versions![0]!;
    const v2 = t.status!.versions![1]!;
    expect(t.status?.versions?.map((v) => v.version)).toEqual([1, 2]);
    expect(v2.checksum).toBe(sims.get(9)!.upstreamChecksum(UBUNTU.imageUrl));
    expect(v2.checksum).not.toBe(v1.checksum);
    expect(t.status).toMatchObject({ vmid: v2.vmid, templateName: 'ubuntu-9-v2', imageChecksum: v2.checksum });
    expect((await pve.get(9)!.getVmConfig(v1.vmid))!.template).toBe(1);
    expect((await history.listTemplateBuilds({ namespace: ns, name: 'ubuntu-9' })).items.map((b) => [b.version, b.result])).toEqual([['2', 'SUCCESS'], ['1', 'SUCCESS']]);

    await client.patch(ProxmoxTemplateType, { namespace: ns, name: 'ubuntu-9' }, 'merge', { spec: { versions: { pin: 1 } } });
    const rolledBack = await waitTemplate('ubuntu-9', 'pinned to 1', (x) => x.status?.activeVersion === 1);
    expect(rolledBack.status).toMatchObject({ vmid: v1.vmid, templateName: 'ubuntu-9-v1', phase: 'Ready' });
    expect(rolledBack.status?.versions).toHaveLength(2);
    expect(cond(rolledBack, 'Ready')?.status).toBe('True');

    await client.patch(ProxmoxTemplateType, { namespace: ns, name: 'ubuntu-9' }, 'merge', { spec: { versions: { pin: 7 } } });
    const badPin = await waitTemplate('ubuntu-9', 'unknown pin reported', (x) => cond(x, 'Ready')?.reason === 'PinnedVersionNotFound');
    expect(cond(badPin, 'Ready')?.message).toMatch(/pin is 7 but the kept versions are 1, 2; version 1 stays active/);

    // Unpinned with keep 1: version 2 becomes active and version 1 (template and downloaded image) is deleted.
    await client.patch(ProxmoxTemplateType, { namespace: ns, name: 'ubuntu-9' }, 'merge', { spec: { versions: { pin: null, keep: 1 } } });
    const pruned = await waitTemplate('ubuntu-9', 'version 1 pruned', (x) => x.status?.versions?.length === 1 && x.status.activeVersion === 2);
    expect(pruned.status?.vmid).toBe(v2.vmid);
    expect(await pve.get(9)!.getVmConfig(v1.vmid)).toBeUndefined();
    const images = (await pve.get(9)!.listStorageContent('local', 'import')).map((v) => v.volid);
    expect(images.some((v) => v.includes(v1.checksum!.slice(0, 12)))).toBe(false);
    expect(images.some((v) => v.includes(v2.checksum!.slice(0, 12)))).toBe(true);
    const reasons = (await events('ubuntu-9')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['UpdateFound', 'VersionActivated', 'VersionDeleted']));
    expect(reasons).not.toContain('BuildFailed');
  });

  it('reports a failed PVE task with its log, and retries the build from that step', async () => {
    const sim = sims.get(9)!;
    sim.failTasks('qmtemplate', { message: "storage 'local-lvm' is full", times: 1 });
    await client.create(ProxmoxTemplateType, template('flaky', 9, { vm: { vmidRange: { min: 9400, max: 9409 } } }));
    const failed = await waitTemplate('flaky', 'Failed', (t) => t.status?.phase === 'Failed');
    expect(failed.status?.message).toMatch(/PVE task qmtemplate failed: storage 'local-lvm' is full/);
    expect(failed.status?.lastFailedTask).toMatchObject({ type: 'qmtemplate', exitStatus: "storage 'local-lvm' is full", log: expect.stringContaining("TASK ERROR: storage 'local-lvm' is full") });
    expect(failed.status?.build).toMatchObject({ step: 'template', failures: 1, vmid: 9400 });
    expect(cond(failed, 'Building')).toMatchObject({ status: 'False', reason: 'TaskFailed' });
    const t = await waitTemplate('flaky', 'Ready after the retry', (x) => x.status?.phase === 'Ready');
    expect(t.status?.vmid).toBe(9400);
    expect(requests(9, 'POST', '/nodes/{node}/qemu').filter((r) => r.params.name === 'flaky-v1')).toHaveLength(1);
    const builds = (await history.listTemplateBuilds({ namespace: ns, name: 'flaky' })).items.map((b) => b.result).sort();
    expect(builds).toEqual(['FAIL', 'SUCCESS']);
  });

  it('reports what the user must fix: permissions, an unknown distribution, a missing Secret, a compressed image', async () => {
    const sim = sims.get(9)!;
    sim.deny('anvil@pve!builder', '/vms/9500', 'VM.Allocate');
    await client.create(ProxmoxTemplateType, template('denied', 9, { vm: { vmidRange: { min: 9500, max: 9500 } } }));
    const denied = await waitTemplate('denied', 'permission reported', (t) => t.status?.phase === 'Failed');
    expect(denied.status?.message).toMatch(/Proxmox VE refused: .*HTTP 403 Permission check failed \(\/vms\/9500, VM\.Allocate\)/);
    expect(cond(denied, 'Building')?.reason).toBe('PermissionDenied');
    sim.allow('anvil@pve!builder', '/vms/9500', 'VM.Allocate');
    await waitTemplate('denied', 'Ready once allowed', (t) => t.status?.phase === 'Ready');

    await client.create(ProxmoxTemplateType, template('nosuch', 9, { source: { distribution: 'ubuntu-4.10' } }));
    const unknown = await waitTemplate('nosuch', 'unknown distribution', (t) => cond(t, 'SourceResolved')?.status === 'False');
    expect(unknown.status?.phase).toBe('Failed');
    expect(cond(unknown, 'SourceResolved')).toMatchObject({ reason: 'InvalidSource', message: expect.stringMatching(/ubuntu-4\.10.*ubuntu-24\.04/s) });

    await client.create(ProxmoxTemplateType, {
      ...template('nosecret', 9, {}),
      spec: { ...(template('nosecret', 9, {}) as Template).spec, connection: { url: sim.url, node: 'pve', tokenSecretRef: { name: 'missing' } } },
    });
    const noSecret = await waitTemplate('nosecret', 'missing Secret', (t) => cond(t, 'Connected')?.status === 'False');
    expect(cond(noSecret, 'Connected')).toMatchObject({ reason: 'SecretNotFound', message: `Secret ${ns}/missing (spec.connection.tokenSecretRef) does not exist` });

    const xz = sim.upstreamUrl('images/disk.qcow2.xz');
    await client.create(ProxmoxTemplateType, template('compressed', 9, { source: { url: xz, checksum: { value: 'ab'.repeat(32) } } }));
    const compressed = await waitTemplate('compressed', 'compressed refused', (t) => t.status?.phase === 'Failed');
    expect(compressed.status?.message).toMatch(/disk\.qcow2\.xz is compressed \(\.xz\); Proxmox cannot import compressed images/);
    for (const name of ['nosuch', 'nosecret', 'compressed']) await client.delete(ProxmoxTemplateType, { namespace: ns, name });
  });

  it('keeps the templates with retainPolicy Retain, adopts them when the object comes back, deletes them otherwise', async () => {
    await client.create(ProxmoxTemplateType, template('kept', 9, { retainPolicy: 'Retain', vm: { vmidRange: { min: 9600, max: 9609 } } }));
    const first = await waitTemplate('kept', 'Ready', (t) => t.status?.phase === 'Ready');
    const vmid = first.status!.vmid!;
    await client.delete(ProxmoxTemplateType, { namespace: ns, name: 'kept' });
    await waitFor('kept gone', async () => !(await get('kept')));
    expect((await pve.get(9)!.getVmConfig(vmid))!.template).toBe(1);

    const creates = requests(9, 'POST', '/nodes/{node}/qemu').length;
    await client.create(ProxmoxTemplateType, template('kept', 9, { vm: { vmidRange: { min: 9600, max: 9609 } } }));
    const adopted = await waitTemplate('kept', 'adopted', (t) => t.status?.phase === 'Ready');
    expect(adopted.status).toMatchObject({ vmid, activeVersion: 1, templateName: 'kept-v1' });
    expect(requests(9, 'POST', '/nodes/{node}/qemu').length).toBe(creates);
    expect((await events('kept')).some((e) => e.reason === 'Adopted')).toBe(true);

    await client.delete(ProxmoxTemplateType, { namespace: ns, name: 'kept' });
    await waitFor('kept deleted', async () => !(await get('kept')));
    expect(await pve.get(9)!.getVmConfig(vmid)).toBeUndefined();
  });

  it('deletes every template on deletion, including a build in progress', async () => {
    const sim = sims.get(8)!;
    const release = sim.holdTasks('qmtemplate');
    await client.create(ProxmoxTemplateType, template('short-lived', 8, { vm: { vmidRange: { min: 9700, max: 9709 } } }));
    await waitTemplate('short-lived', 'converting', (t) => t.status?.currentTask?.type === 'qmtemplate');
    await client.delete(ProxmoxTemplateType, { namespace: ns, name: 'short-lived' });
    const deleting = await waitTemplate('short-lived', 'waits for the task', (t) => t.status?.phase === 'Deleting');
    expect(deleting.status?.message).toMatch(/waiting for task qmtemplate/);
    release();
    await waitFor('short-lived deleted', async () => !(await get('short-lived')));
    expect(await pve.get(8)!.getVmConfig(9700)).toBeUndefined();
    const builds = (await history.listTemplateBuilds({ namespace: ns, name: 'short-lived' })).items;
    expect(builds).toEqual([expect.objectContaining({ result: 'CANCELLED' })]);
  });

  it('promotes a new version only after its validation boot, holds a major release for approval, and keeps the active version when a boot fails', async () => {
    const sim = sims.get(9)!;
    const image = (name: string, content: string) => {
      const url = `https://images.example.com/gated/${name}.qcow2`;
      sim.setUpstreamFile(url, content, { virtualSize: 2 * 1024 ** 3 });
      return { url, checksum: { value: sim.upstreamChecksum(url) } };
    };
    const source = (name: string, release: string) => ({ ...image(name, `gated ${release}`), release });
    await client.create(ProxmoxTemplateType, template('gated', 9, { source: source('noble-24.04', '24.04'), vm: { vmidRange: { min: 9500, max: 9519 } }, validation: { boot: true, settleSeconds: 0 } }));
    const v1 = await waitTemplate('gated', 'version 1 validated', (t) => t.status?.phase === 'Ready' && t.status.activeVersion === 1);
    expect(v1.status?.versions).toEqual([expect.objectContaining({ version: 1, release: '24.04', validated: true })]);
    // the validation VM was a clone of the new template, started, then stopped and destroyed
    const clones = requests(9, 'POST', '/nodes/{node}/qemu/{vmid}/clone').filter((r) => r.params.name === 'gated-v1-validate');
    expect(clones).toHaveLength(1);
    const validationVm = Number(clones[0]!.params.newid);
    expect(requests(9, 'POST', '/nodes/{node}/qemu/{vmid}/status/start').some((r) => r.path.endsWith(`/qemu/${validationVm}/status/start`))).toBe(true);
    expect(await pve.get(9)!.getVmConfig(validationVm)).toBeUndefined();
    expect((await events('gated')).map((e) => e.reason)).toEqual(expect.arrayContaining(['ValidationPassed', 'BuildSucceeded']));

    // A major release (24.04 -> 26.04) waits for approval; the active version stays.
    await client.patch(ProxmoxTemplateType, { namespace: ns, name: 'gated' }, 'merge', { spec: { source: source('resolute-26.04', '26.04') } });
    const held = await waitTemplate('gated', 'release 26.04 held', (t) => t.status?.pendingRelease === '26.04');
    expect(held.status).toMatchObject({ phase: 'Ready', activeVersion: 1 });
    expect(held.status?.build).toBeUndefined();
    expect(cond(held, 'UpdateApproved')).toMatchObject({ status: 'False', reason: 'NeedsApproval', message: expect.stringContaining('release 26.04 (major from 24.04)') });
    expect((await events('gated')).map((e) => e.reason)).toContain('UpdateNeedsApproval');
    await client.patch(ProxmoxTemplateType, { namespace: ns, name: 'gated' }, 'merge', { spec: { updates: { approvedRelease: '26.04' } } });
    const v2 = await waitTemplate('gated', 'version 2 built after approval', (t) => t.status?.phase === 'Ready' && t.status.activeVersion === 2);
    expect(v2.status?.versions?.at(-1)).toMatchObject({ version: 2, release: '26.04', validated: true });
    expect(v2.status?.pendingRelease).toBeUndefined();
    expect(cond(v2, 'UpdateApproved')?.status).toBe('True');

    // A bad image: a patch release is built automatically, but its VM never boots (qmstart fails): it is not promoted.
    sim.failTasks('qmstart', { message: 'start failed: QEMU exited with code 1', times: 1000 });
    try {
      await client.patch(ProxmoxTemplateType, { namespace: ns, name: 'gated' }, 'merge', { spec: { source: source('resolute-26.04.1', '26.04.1') } });
      await waitFor('a failed validation of version 3 in the history', async () =>
        (await history.listTemplateBuilds({ namespace: ns, name: 'gated' })).items.some((b) => b.version === '3' && b.result === 'FAIL' && /ValidationFailed/.test(b.failureReason ?? '')),
      30_000);
      const kept = (await get('gated'))!;
      expect(kept.status).toMatchObject({ activeVersion: 2, vmid: v2.status!.vmid });
      expect(kept.status?.versions?.map((v) => v.version)).toEqual([1, 2]);
      const notes = await events('gated');
      expect(notes.find((e) => e.reason === 'ValidationFailed')?.note).toMatch(/version 3 not promoted: PVE task qmstart failed: start failed: QEMU exited with code 1/);
      expect(notes.filter((e) => e.reason === 'VersionActivated').map((e) => e.note)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^version 3/)]));
    } finally {
      sim.stopFailingTasks('qmstart');
    }
    await client.delete(ProxmoxTemplateType, { namespace: ns, name: 'gated' });
    await waitFor('gated deleted', async () => !(await get('gated')));
    expect((await pve.get(9)!.listVms()).filter((v) => v.name?.startsWith('gated-'))).toEqual([]);
  });

  it('sent only requests that are valid against the PVE 8.4 and 9.1 schemas', () => {
    for (const [major, sim] of sims) {
      expect({ major, invalid: sim.invalidRequests().filter((r) => !r.injected) }).toEqual({ major, invalid: [] });
      expect(sim.requests.filter((r) => r.schemaChecked).length).toBeGreaterThan(20);
    }
  });
});
