import { describe, expect, it } from '@jest/globals';
import { Access } from './access.js';
import { SimError } from './errors.js';
import type { PveMethodInfo } from './schema.js';

const ID = 'anvil@pve!builder';
const endpoint = (check: unknown[]): PveMethodInfo => ({ name: 'x', method: 'POST', parameters: {}, permissions: { check } });

describe('access: API tokens and permission checks', () => {
  it('authenticates PVEAPIToken headers with the right secret only', () => {
    const access = new Access([{ id: ID, secret: 's3cret' }]);
    expect(access.token()).toBe(`${ID}=s3cret`);
    expect(access.authenticate(`PVEAPIToken=${ID}=s3cret`)).toBe(ID);
    expect(access.authenticate(`PVEAPIToken ${ID}=s3cret`)).toBe(ID);
    expect(access.authenticate(`PVEAPIToken=${ID}=wrong`)).toBeUndefined();
    expect(access.authenticate(`PVEAPIToken=other@pve!x=s3cret`)).toBeUndefined();
    expect(access.authenticate(undefined)).toBeUndefined();
    const added = access.addToken('second@pve!t', 'two');
    expect(access.authenticate(`PVEAPIToken=${added}`)).toBe('second@pve!t');
  });

  it('takes a privilege away on a path and everything below it, and gives it back', () => {
    const access = new Access([{ id: ID, secret: 's' }]);
    access.deny(ID, '/vms', 'VM.Allocate');
    expect(access.hasPriv(ID, '/vms/100', 'VM.Allocate')).toBe(false);
    expect(access.hasPriv(ID, '/vms', 'VM.Allocate')).toBe(false);
    expect(access.hasPriv(ID, '/vmsx', 'VM.Allocate')).toBe(true);
    expect(access.hasPriv(ID, '/vms/100', 'VM.Audit')).toBe(true);
    expect(() => access.requirePriv(ID, '/vms/100', 'VM.Allocate')).toThrow(new SimError(403, 'Permission check failed (/vms/100, VM.Allocate)\n'));
    access.allow(ID, '/vms');
    expect(access.hasPriv(ID, '/vms/100', 'VM.Allocate')).toBe(true);
  });

  it("evaluates the schema's check expressions: perm with parameters, any, require_param, and, or", () => {
    const access = new Access([{ id: ID, secret: 's' }]);
    access.deny(ID, '/vms/100', 'VM.Config.Disk');
    const disk = endpoint(['perm', '/vms/{vmid}', ['VM.Audit', 'VM.Config.Disk']]);
    expect(access.checkPermission(disk, { vmid: '100' }, ID)).toBe('Permission check failed (/vms/100, VM.Config.Disk)');
    expect(access.checkPermission(disk, { vmid: '101' }, ID)).toBeUndefined();
    const any = endpoint(['perm', '/vms/{vmid}', ['VM.Config.Disk', 'VM.Audit'], 'any', 1]);
    expect(access.checkPermission(any, { vmid: '100' }, ID)).toBeUndefined();
    const requires = endpoint(['perm', '/vms/{vmid}', ['VM.Audit'], 'require_param', 'target']);
    expect(access.checkPermission(requires, { vmid: '101' }, ID)).toBe('Permission check failed');
    const or = endpoint(['or', ['perm', '/vms/{vmid}', ['VM.Config.Disk']], ['perm', '/', ['Sys.Audit']]]);
    expect(access.checkPermission(or, { vmid: '100' }, ID)).toBeUndefined();
    access.deny(ID, '/', 'Sys.Audit');
    expect(access.checkPermission(or, { vmid: '100' }, ID)).toBe('Permission check failed');
    const and = endpoint(['and', ['perm', '/vms/{vmid}', ['VM.Audit']], ['perm', '/nodes/pve', ['Sys.Audit']]]);
    expect(access.checkPermission(and, { vmid: '101' }, ID)).toBe('Permission check failed');
    expect(access.checkPermission(endpoint(['perm', '/nodes/pve', ['Sys.Audit']]), {}, ID)).toBe('Permission check failed (/nodes/pve, Sys.Audit)');
  });
});
