import { describe, it, expect } from '@jest/globals';
import { classifyMessage, errorFromNetwork, errorFromResponse, isLockTimeout, ProxmoxTaskError } from './errors.js';
import { parseUpid } from './upid.js';

const LOCK = "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout";

describe('error classification', () => {
  it('treats 401, 403 and 400 as permanent and keeps the PVE message and parameter errors', () => {
    const auth = errorFromResponse(401, 'authentication failure', undefined, 'GET /version');
    expect([auth.code, auth.transient]).toEqual(['auth', false]);
    const perm = errorFromResponse(403, 'Permission check failed (/vms/100, VM.Allocate)\n', undefined, 'POST /nodes/pve/qemu');
    expect([perm.code, perm.transient, perm.pveMessage]).toEqual(['permission', false, 'Permission check failed (/vms/100, VM.Allocate)']);
    expect(perm.message).toBe('POST /nodes/pve/qemu: HTTP 403 Permission check failed (/vms/100, VM.Allocate)');
    const param = errorFromResponse(400, 'Parameter verification failed.\n', { foo: 'property is not defined in schema and the schema does not allow additional properties' }, 'POST /x');
    expect([param.code, param.transient]).toEqual(['parameter', false]);
    expect(param.paramErrors).toEqual({ foo: 'property is not defined in schema and the schema does not allow additional properties' });
    expect(param.message).toContain('foo: property is not defined in schema');
  });

  it('treats 5xx, 596 and lock timeouts as transient', () => {
    for (const [status, message] of [[500, 'Internal Server Error'], [503, 'Service Unavailable'], [596, 'Connection timed out'], [502, '']] as const) {
      const e = errorFromResponse(status, message, undefined, 'GET /version');
      expect([status, e.code, e.transient]).toEqual([status, 'unavailable', true]);
    }
    const lock = errorFromResponse(500, `${LOCK}\n`, undefined, 'PUT /nodes/pve/qemu/9000/config');
    expect([lock.code, lock.transient]).toEqual(['lock', true]);
    expect(isLockTimeout(LOCK)).toBe(true);
    expect(classifyMessage('VM 100 is locked (create)')).toBe('lock');
  });

  it('does not retry 500s whose message names a permanent condition', () => {
    const cases: Array<[string, string]> = [
      ['unable to create VM 100: config file already exists', 'already-exists'],
      ["VM 100 already exists on node 'pve'", 'already-exists'],
      ["Configuration file 'nodes/pve/qemu-server/100.conf' does not exist", 'not-found'],
      ["storage 'local-lvm' is not configured for content-type 'import'", 'other'],
    ];
    for (const [message, code] of cases) {
      const e = errorFromResponse(500, message, undefined, 'x');
      expect([message, e.code, e.transient]).toEqual([message, code, false]);
    }
  });

  it('treats network failures as transient and TLS verification failures as permanent', () => {
    const refused = errorFromNetwork(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }), 'GET /version');
    expect([refused.code, refused.transient, refused.status]).toEqual(['network', true, 0]);
    expect(refused.pveMessage).toContain('ECONNREFUSED');
    const tls = errorFromNetwork(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }), 'GET /version');
    expect([tls.code, tls.transient]).toEqual(['tls', false]);
    const timeout = errorFromNetwork(Object.assign(new Error('aborted'), { name: 'TimeoutError' }), 'GET /version');
    expect([timeout.code, timeout.transient, timeout.pveMessage]).toEqual(['network', true, 'request timed out']);
  });

  it('classifies failed tasks by their exit status', () => {
    const lock = new ProxmoxTaskError({ upid: 'UPID:x', type: 'qmcreate', exitStatus: LOCK, logTail: [`TASK ERROR: ${LOCK}`] });
    expect([lock.code, lock.transient, lock.message]).toEqual(['lock', true, `PVE task qmcreate failed: ${LOCK}`]);
    const exists = new ProxmoxTaskError({ upid: 'UPID:x', type: 'qmcreate', exitStatus: "VM 100 already exists on node 'pve'", logTail: [] });
    expect([exists.code, exists.transient]).toEqual(['already-exists', false]);
    const mismatch = new ProxmoxTaskError({ upid: 'UPID:x', type: 'download', exitStatus: "checksum mismatch: got 'a' != expect 'b'", logTail: [] });
    expect([mismatch.code, mismatch.transient]).toEqual(['task-failed', false]);
  });
});

describe('parseUpid', () => {
  it('reads the fields of a token-started task and rejects other strings', () => {
    expect(parseUpid('UPID:pve1:0012EF57:02D0A6DD:6B02A6E0:qmcreate:9000:anvil@pve!builder:')).toEqual({
      node: 'pve1',
      pid: 0x12ef57,
      pstart: 0x2d0a6dd,
      starttime: 0x6b02a6e0,
      type: 'qmcreate',
      id: '9000',
      user: 'anvil@pve!builder',
    });
    expect(parseUpid('UPID:pve:1:2:3:qmcreate:9000:root@pam:')).toBeUndefined();
    expect(parseUpid('9000')).toBeUndefined();
  });
});
