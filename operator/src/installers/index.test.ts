// The registry: one installer per kind of the API's enum, ubuntu-autoinstall for templates that name none.
import { DEFAULT_INSTALLER, INSTALLER_KINDS } from '@anvil/core/api';
import { installerFor, installers } from './index.js';

describe('installers', () => {
  it('has one installer per kind the API accepts, each its own kind', () => {
    expect(installers.map((i) => i.kind)).toEqual([...INSTALLER_KINDS]);
    for (const kind of INSTALLER_KINDS) expect(installerFor(kind).kind).toBe(kind);
  });

  it('gives templates without spec.installer (all those written before it existed) ubuntu-autoinstall', () => {
    expect(DEFAULT_INSTALLER).toBe('ubuntu-autoinstall');
    expect(installerFor(undefined).kind).toBe('ubuntu-autoinstall');
  });

  it('lets every kind render its kernel arguments and serve at least one file from fields it renders', () => {
    for (const installer of installers) {
      expect(installer.fields).toContain('kernelArgs');
      for (const field of installer.requiredFields) expect(installer.fields).toContain(field);
      for (const file of installer.served) expect(installer.fields).toContain(file.field);
      expect(installer.served.length).toBeGreaterThan(0);
    }
  });
});
