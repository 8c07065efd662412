import { describe, expect, it } from '@jest/globals';
import type { ProxmoxTemplate, ProxmoxTemplateBuild } from '@anvil/core/api';
import { templateCreateParams } from '../../proxmox/vm-params.js';
import { buildId, buildVmOptions, isOurBuild, ownerMarker, parseOwnerMarker, settingsHash, vmSettings } from './settings.js';
import { importVolumeFor, resolveImage } from './source.js';

const base = (spec: Partial<ProxmoxTemplate['spec']> = {}): ProxmoxTemplate => ({
  apiVersion: 'anvil.dev/v1alpha1',
  kind: 'ProxmoxTemplate',
  metadata: { name: 'noble', namespace: 'lab', uid: 'uid-1', generation: 1 },
  spec: { connection: { url: 'https://pve:8006', node: 'pve', tokenSecretRef: { name: 't' } }, source: { distribution: 'ubuntu-24.04' }, ...spec },
});

const build: ProxmoxTemplateBuild = {
  id: '6f1c2f7e-1111-4222-8333-944445555666',
  version: 3,
  vmid: 9002,
  name: 'noble-v3',
  imageURL: 'https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-amd64.img',
  checksum: 'a'.repeat(64),
  algorithm: 'sha256',
  importVolume: 'local:import/ubuntu-24.04-server-cloudimg-amd64-aaaaaaaaaaaa.qcow2',
  settingsHash: '0123456789abcdef',
  step: 'create',
};

describe('ProxmoxTemplate settings', () => {
  it('applies the CRD defaults and the catalog cloud-init bus', () => {
    expect(vmSettings(base())).toMatchObject({ storage: 'local-lvm', importStorage: 'local', cloudInitBus: 'ide', cores: 2, memoryMiB: 2048, machine: 'q35', bios: 'seabios', serialConsole: true, agent: true });
    expect(vmSettings(base({ source: { distribution: 'alpine-3.22' } })).cloudInitBus).toBe('scsi');
    expect(vmSettings(base({ source: { distribution: 'alpine-3.22' }, vm: { cloudInitBus: 'sata' } })).cloudInitBus).toBe('sata');
  });

  it('changes the settings hash with the VM shape, cloud-init settings and password, not with versioning or retain', () => {
    const h = settingsHash(base(), 'pw');
    expect(settingsHash(base(), 'pw')).toBe(h);
    expect(settingsHash(base({ vm: { cores: 2 } }), 'pw')).toBe(h); // the default spelled out
    expect(settingsHash(base({ vm: { cores: 4 } }), 'pw')).not.toBe(h);
    expect(settingsHash(base({ cloudInit: { user: 'ops' } }), 'pw')).not.toBe(h);
    expect(settingsHash(base(), 'other')).not.toBe(h);
    expect(settingsHash(base(), undefined)).not.toBe(h);
    expect(settingsHash(base({ versions: { keep: 5, pin: 2 }, retainPolicy: 'Retain' }), 'pw')).toBe(h);
  });

  it('writes an owner marker into the description that reads back, and recognises only its own build', () => {
    const t = base();
    const marker = parseOwnerMarker({ description: ownerMarker(t, build) });
    expect(marker).toEqual({ owner: 'lab/noble', uid: 'uid-1', version: 3, checksum: 'a'.repeat(64), imageURL: build.imageURL, settingsHash: '0123456789abcdef' });
    expect(isOurBuild(t, marker, 3)).toBe(true);
    expect(isOurBuild(t, marker, 2)).toBe(false);
    expect(isOurBuild({ ...t, metadata: { ...t.metadata, uid: 'uid-2' } }, marker, 3)).toBe(false);
    expect(parseOwnerMarker({ description: 'a VM someone made by hand' })).toBeUndefined();
    expect(parseOwnerMarker({ name: 'no description' })).toBeUndefined();
  });

  it('derives a UUID per build attempt, the same when decided twice', () => {
    const id = buildId(base(), 2, 0);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(buildId(base(), 2, 0)).toBe(id);
    expect(new Set([id, buildId(base(), 2, 1), buildId(base(), 3, 0)]).size).toBe(3);
  });

  it('creates the VM with tags, the marker and cloud-init settings', () => {
    const t = base({ vm: { tags: ['base', 'anvil'] }, cloudInit: { user: 'ops', sshKeys: ['ssh-ed25519 AAAA x'] } });
    const params = templateCreateParams(buildVmOptions(t, build, 'secret'));
    expect(params).toMatchObject({ vmid: 9002, name: 'noble-v3', tags: 'anvil;anvil-v3;base', ciuser: 'ops', cipassword: 'secret', ide2: 'local-lvm:cloudinit' });
    expect(String(params.scsi0)).toBe(`local-lvm:0,import-from=${build.importVolume},discard=on,iothread=1`);
    expect(String(params.description)).toContain('anvil.dev/uid=uid-1');
  });
});

describe('ProxmoxTemplate source', () => {
  const sums = `${'b'.repeat(64)} *ubuntu-24.04-server-cloudimg-amd64.img\n${'c'.repeat(64)} *ubuntu-24.04-server-cloudimg-arm64.img\n`;

  it('resolves a catalog distribution through its checksum file', async () => {
    const image = await resolveImage(base(), async (url) => {
      expect(url).toBe('https://cloud-images.ubuntu.com/releases/noble/release/SHA256SUMS');
      return sums;
    });
    expect(image).toEqual({ url: build.imageURL, checksum: 'b'.repeat(64), algorithm: 'sha256', release: '24.04' });
    expect(importVolumeFor('local', image)).toBe('local:import/ubuntu-24.04-server-cloudimg-amd64-bbbbbbbbbbbb.qcow2');
  });

  it('takes an explicit checksum, and checks its length against the algorithm', async () => {
    const url = 'https://mirror.example/images/disk.qcow2';
    await expect(resolveImage(base({ source: { url, checksum: { value: 'D'.repeat(128), algorithm: 'sha512' } } }), async () => '')).resolves.toEqual({ url, checksum: 'd'.repeat(128), algorithm: 'sha512' });
    await expect(resolveImage(base({ source: { url, checksum: { value: 'd'.repeat(64), algorithm: 'sha512' } } }), async () => '')).rejects.toThrow(/64 hex digits, which is not a sha512 checksum/);
  });

  it('says a checksum file that cannot be read is transient, a file without the image is not', async () => {
    const down = await resolveImage(base(), async () => {
      throw new Error('HTTP 503 Service Unavailable');
    }).catch((e: unknown) => e);
    expect(down).toMatchObject({ transient: true, message: expect.stringMatching(/cannot read the checksum file .*SHA256SUMS: HTTP 503/) });
    const missing = await resolveImage(base(), async () => `${'c'.repeat(64)} *other.img\n`).catch((e: unknown) => e);
    expect(missing).toMatchObject({ transient: false, message: expect.stringMatching(/ubuntu-24.04-server-cloudimg-amd64.img is not listed/) });
  });

  it('refuses compressed images and unknown distributions before anything is downloaded', async () => {
    await expect(resolveImage(base({ source: { url: 'https://x.example/disk.raw.xz', checksum: { value: 'a'.repeat(64) } } }), async () => '')).rejects.toThrow(/compressed/);
    await expect(resolveImage(base({ source: { distribution: 'windows-95' } }), async () => '')).rejects.toThrow(/windows-95/);
  });
});
