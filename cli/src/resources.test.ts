import { AUTOINSTALLTEMPLATE_KIND, AUTOINSTALLTEMPLATE_PLURAL, BAREMETALHOST_KIND, BAREMETALHOST_PLURAL, GROUP, PAUSED_ANNOTATION as API_PAUSED, VERSION } from '@anvil/core/api';
import { AutoinstallTemplateResource, BareMetalHostResource, PAUSED_ANNOTATION } from './resources.js';

describe("the CLI's resource types", () => {
  it('are the API\'s', () => {
    expect(BareMetalHostResource).toEqual({ group: GROUP, version: VERSION, kind: BAREMETALHOST_KIND, plural: BAREMETALHOST_PLURAL, namespaced: true });
    expect(AutoinstallTemplateResource).toEqual({ group: GROUP, version: VERSION, kind: AUTOINSTALLTEMPLATE_KIND, plural: AUTOINSTALLTEMPLATE_PLURAL, namespaced: true });
    expect(PAUSED_ANNOTATION).toBe(API_PAUSED);
  });
});
