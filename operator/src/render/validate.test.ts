import { fixtureTemplates, loadTemplate, lookupOf } from '../../../test/fixtures/render.js';
import { formatProblem } from './errors.js';
import { checkTemplateSource, KNOWN_FILTERS, validateTemplateChain, validateTemplateSpec } from './validate.js';

describe('validateTemplateSpec', () => {
  it('accepts the example templates', () => {
    for (const [name, spec] of Object.entries(fixtureTemplates())) expect(validateTemplateSpec(name, spec)).toEqual([]);
    const quickstart = loadTemplate('examples', 'quickstart', 'autoinstalltemplate.yaml');
    expect(validateTemplateSpec(quickstart.metadata.name!, quickstart.spec)).toEqual([]);
  });

  it('reports a syntax error with the field, line and column', () => {
    const problems = validateTemplateSpec('t', { userData: '#cloud-config\nautoinstall:\n  version: {{ version | }}\n' });
    expect(problems).toEqual([{ field: 'userData', template: 't/userData', line: 3, column: 25, message: 'expected symbol, got variable-end' }]);
    expect(formatProblem(problems[0]!)).toBe('userData: t/userData line 3, column 25: expected symbol, got variable-end');
  });

  it('reports every broken file, including the kernel arguments', () => {
    const problems = validateTemplateSpec('t', {
      userData: '{% if x %}\nno end',
      metaData: 'ok {{ x }}',
      boot: { kernelArgs: 'console={{ tty' },
    });
    expect(problems.map((p) => [p.field, p.message])).toEqual([
      ['userData', 'parseIf: expected elif, else, or endif, got end of file'],
      ['kernelArgs', 'expected variable end'],
    ]);
  });

  it('reports unknown filters where they are used', () => {
    expect(validateTemplateSpec('t', { userData: 'a\n  password: {{ hash | yaml | nope }}' })).toEqual([
      { field: 'userData', template: 't/userData', line: 2, column: 30, message: 'unknown filter "nope"' },
    ]);
    for (const name of ['yaml', 'json', 'b64encode', 'b64decode', 'shellquote', 'indent', 'default', 'upper', 'join']) {
      expect(KNOWN_FILTERS.has(name)).toBe(true);
    }
  });
});

describe('checkTemplateSource', () => {
  it('lists the templates loaded by literal name, a bare name meaning the same field', () => {
    const { references, problems } = checkTemplateSource(
      'web/userData',
      '{% extends "base" %}\n{% import "snippets" as s %}{% from "x/metaData" import m %}{% include name %}',
    );
    expect(problems).toEqual([]);
    expect(references).toEqual([
      { name: 'base', id: 'base/userData', line: 1, column: 12 },
      { name: 'snippets', id: 'snippets/userData', line: 2, column: 11 },
      { name: 'x/metaData', id: 'x/metaData', line: 2, column: 37 },
    ]);
  });
});

describe('validateTemplateChain', () => {
  it('accepts the fixture chain and returns the resolved template', () => {
    const v = validateTemplateChain('ubuntu-2404-web', lookupOf(fixtureTemplates()));
    expect(v.problems).toEqual([]);
    expect(v.kind).toBeUndefined();
    expect(v.resolved?.chain).toEqual(['ubuntu-2404-base', 'ubuntu-2404-web']);
  });

  it('reports chain problems as kind chain', () => {
    const v = validateTemplateChain('a', lookupOf({ a: { extends: 'b' }, b: { extends: 'a' } }));
    expect(v).toEqual({ kind: 'chain', problems: [{ message: 'extends forms a cycle: a -> b -> a' }] });
  });

  it('reports syntax problems of any template in the chain or the includes', () => {
    const v = validateTemplateChain('o', lookupOf({ b: { userData: 'ok' }, i: { userData: '{{ broken' }, o: { extends: 'b', includes: ['i'] } }));
    expect(v.kind).toBe('syntax');
    expect(v.problems).toEqual([{ field: 'userData', template: 'i/userData', message: 'expected variable end' }]);
  });

  it('refuses loading a template outside the chain and includes', () => {
    const templates = {
      base: { userData: '#cloud-config\n{% block body %}{% endblock %}' },
      other: { userData: 'x' },
      web: { extends: 'base', userData: '{% extends "base" %}\n{% block body %}{% include "other" %}{% endblock %}' },
    };
    const v = validateTemplateChain('web', lookupOf(templates));
    expect(v.problems).toEqual([
      {
        field: 'userData',
        template: 'web/userData',
        line: 2,
        column: 28,
        message: '"other" refers to other/userData, which is not in the extends chain or the includes of "web" (base, web)',
      },
    ]);
    expect(validateTemplateChain('web', lookupOf({ ...templates, web: { ...templates.web, includes: ['other'] } })).problems).toEqual([]);
  });
});
