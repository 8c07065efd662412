// The sandboxed rendering, through the worker processes that run it in production.
import { RenderError, type TemplateField } from './errors.js';
import { ProcessRenderer } from './renderer.js';
import type { RenderJob } from './sandbox.js';

const renderer = new ProcessRenderer();
afterAll(() => renderer.close());

const LIMITS = { maxOutputBytes: 64 * 1024, maxRangeLength: 100_000 };

function job(sources: Record<string, string>, context: Record<string, unknown> = {}, entries?: Partial<Record<TemplateField, string>>): RenderJob {
  return { sources, entries: entries ?? { userData: Object.keys(sources)[0]! }, context, limits: LIMITS };
}

async function userData(source: string, context: Record<string, unknown> = {}): Promise<string | undefined> {
  return (await renderer.render(job({ 't/userData': source }, context))).userData;
}

async function failure(promise: Promise<unknown>): Promise<RenderError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    return err as RenderError;
  }
  throw new Error('expected the render to fail');
}

describe('composition', () => {
  const sources = {
    'base/userData': [
      '#cloud-config',
      'autoinstall:',
      '  version: 1',
      '{% block identity %}',
      '  identity: {hostname: {{ host.hostname | yaml }}}',
      '{% endblock %}',
      '{% block packages %}  packages: {{ packages | yaml }}{% endblock %}',
      '{% include "late/userData" %}',
    ].join('\n'),
    'web/userData': [
      '{% extends "base" %}',
      '{% import "snippets" as s %}',
      'text outside blocks is not output',
      '{% block packages %}{{ super() }} # from base',
      '  snaps: {{ s.snapList(["etcd"]) }}{% endblock %}',
    ].join('\n'),
    'snippets/userData': '{% macro snapList(names) %}[{% for n in names %}{name: {{ n | yaml }}}{% endfor %}]{% endmacro %}',
    'late/userData': '  late-commands: {{ lateCommands | yaml }}',
    'base/metaData': 'instance-id: {{ host.name }}-{{ install.revision }}',
  };
  const context = { host: { name: 'n1', hostname: 'n1' }, install: { revision: 2 }, packages: ['nginx'], lateCommands: ['echo hi'] };

  it('renders an overlay over its base: blocks, super(), include and import by bare name', async () => {
    const out = await renderer.render(
      job(sources, context, { userData: 'web/userData', metaData: 'base/metaData' }),
    );
    expect(out).toEqual({
      userData: [
        '#cloud-config',
        'autoinstall:',
        '  version: 1',
        '',
        '  identity: {hostname: "n1"}',
        '',
        '  packages: ["nginx"] # from base',
        '  snaps: [{name: "etcd"}]',
        '  late-commands: ["echo hi"]',
      ].join('\n'),
      metaData: 'instance-id: n1-2',
    });
  });

  it('attributes an error to the template whose code raised it', async () => {
    const cases: [Record<string, string>, string, number, string][] = [
      // in the base, outside any block overridden by the overlay
      [{ 'base/userData': '{% block a %}{% endblock %}\n{{ host.rack }}' }, 'base/userData', 2, 'undefined variable "host.rack"'],
      // in a block of the overlay, run by the base
      [{ 'web/userData': '{% extends "base" %}\n\n{% block packages %}{{ host.rack }}{% endblock %}' }, 'web/userData', 3, 'undefined variable "host.rack"'],
      // in an included template
      [{ 'late/userData': '\n  late-commands: {{ host.rack }}' }, 'late/userData', 2, 'undefined variable "host.rack"'],
      // in a template run by {% import %} (which, as in Jinja, does not see the context unless imported "with context")
      [{ 'snippets/userData': '{% set x = host.rack | upper %}' }, 'snippets/userData', 1, 'upper: undefined variable "host"'],
    ];
    for (const [override, template, line, message] of cases) {
      const err = await failure(renderer.render(job({ ...sources, ...override }, context, { userData: 'web/userData' })));
      expect(err.problems).toEqual([{ field: 'userData', template, line, column: expect.any(Number), message }]);
    }
  });

  it('refuses templates outside the chain and includes, listing what can be loaded', async () => {
    const err = await failure(userData('{% include "secrets/userData" %}'));
    expect(err.kind).toBe('render');
    expect(err.problems[0]).toMatchObject({
      field: 'userData',
      message: 'template "secrets/userData" is not available: only the extends chain and the includes can be loaded (t)',
    });
  });
});

describe('undefined values', () => {
  it('name the variable, the field, the template and the position', async () => {
    const err = await failure(userData('#cloud-config\nautoinstall:\n  identity:\n    hostname: {{ host.rack }}\n', { host: { name: 'n1' } }));
    expect(err.kind).toBe('render');
    expect(err.problems).toEqual([{ field: 'userData', template: 't/userData', line: 4, column: 15, message: 'undefined variable "host.rack"' }]);
    expect(err.message).toBe('userData: t/userData line 4, column 15: undefined variable "host.rack"');
  });

  it('are errors when passed to a filter, except default', async () => {
    expect((await failure(userData('a\n  password: {{ passwordHash | yaml }}'))).problems[0]).toMatchObject({
      line: 2,
      column: 31,
      message: 'yaml: undefined variable "passwordHash"',
    });
    expect((await failure(userData('{{ name | upper }}'))).message).toContain('upper: undefined variable "name"');
    expect((await failure(userData('{{ keys[3] | json }}', { keys: ['a'] }))).message).toContain('json: undefined variable "keys[3]"');
    expect(await userData('{{ name | default("anon") }}|{% if name %}x{% endif %}|{{ name is defined }}|{{ nested.missing is defined }}', { nested: {} })).toBe(
      'anon||false|false',
    );
  });

  it('are reported with the template they occur in, for every failing file', async () => {
    const err = await failure(
      renderer.render(
        job(
          { 'a/userData': 'ok\n{% include "b" %}', 'b/userData': '\n\n{{ deep.er }}', 'a/metaData': '{{ null_value }}', 'a/kernelArgs': 'fine' },
          { null_value: null },
          { userData: 'a/userData', metaData: 'a/metaData', kernelArgs: 'a/kernelArgs' },
        ),
      ),
    );
    expect(err.problems).toEqual([
      { field: 'userData', template: 'b/userData', line: 3, column: 1, message: 'undefined variable "deep"' },
      { field: 'metaData', template: 'a/metaData', line: 1, column: 1, message: '"null_value" is null' },
    ]);
  });

  it('report filter errors at the filter', async () => {
    expect((await failure(userData('\n\n   {{ "not base64" | b64decode }}'))).problems[0]).toMatchObject({
      line: 3,
      column: 22,
      message: 'b64decode: the value is not valid base64',
    });
  });
});

describe('sandbox', () => {
  it.each([
    ['{{ range.constructor("return typeof process")() }}'],
    ['{{ cycler.constructor("return typeof process")() }}'],
    ['{{ "".constructor.constructor("return typeof process")() }}'],
    ['{{ [].constructor.constructor("return typeof process")() }}'],
    ['{{ host["constructor"]["constructor"]("return typeof process")() }}'],
    ['{{ host.__proto__ }}'],
    ['{{ constructor.constructor("return typeof process")() }}'],
    ['{% set f = "".sub %}{{ f.call.constructor("return typeof process")() }}'],
    ['{{ host.name.toString.constructor("return typeof process")() }}'],
    ['{% for x in [1] %}{{ loop.constructor }}{% endfor %}'],
  ])('refuses the way out in %s', async (source) => {
    const err = await failure(userData(source, { host: { name: 'n1' } }));
    expect(err.kind).toBe('render');
    expect(err.message).toMatch(/access to "(constructor|__proto__)" is not allowed in templates/);
  });

  it('does not let a string literal break out of the generated code', async () => {
    // plain nunjucks 3.2.4 renders this as "[object Object]PWNED": the callee's name is quoted into the compiled
    // JavaScript with only " escaped, so a literal ending in a backslash closes the string and the rest runs
    const literal = JSON.stringify(`\\", context, [])), env.opts.autoescape); output += 'PWNED'; //`);
    expect(await userData(`{{ {${literal}: cycler}[${literal}]() }}`)).toBe('[object Object]');
  });

  it('keeps the usual nunjucks features working', async () => {
    const source = [
      '{% for k, v in d %}{{ loop.index }}:{{ k }}={{ v }}{% if not loop.last %},{% endif %}{% endfor %}',
      '{% set c = cycler("odd", "even") %}{{ c.next() }}-{{ c.next() }}',
      '{% set j = joiner("|") %}{% for x in [1, 2] %}{{ j() }}{{ x }}{% endfor %}',
      '{% macro box(title) %}[{{ title }}:{{ caller() }}]{% endmacro %}{% call box("t") %}body{% endcall %}',
      '{{ d | dictsort | first | join("=") }} {{ [3, 1, 2] | sort | join(",") }} {{ "a b" | replace(" ", "_") | upper }}',
      '{{ "line1\nline2" | indent(2) }}',
    ].join('\n');
    expect(await userData(source, { d: { b: 2, a: 1 } })).toBe(
      ['1:b=2,2:a=1', 'odd-even', '1|2', '[t:body]', 'a=1 1,2,3 A_B', 'line1\n  line2'].join('\n'),
    );
  });

  it('still offers the harmless string and list methods', async () => {
    expect(await userData('{{ s.split(",") | join("+") }} {{ s.toUpperCase() }} {{ l.slice(1).join("") }} {{ l.length }} {{ s.startsWith("a") }}', { s: 'a,b', l: ['x', 'y', 'z'] })).toBe(
      'a+b A,B yz 3 true',
    );
  });
});

describe('limits', () => {
  it('stops a runaway loop at the time limit, and renders on with a new worker', async () => {
    const err = await failure(
      renderer.render(job({ 't/userData': '{% for i in range(0, 100000) %}{% for j in range(0, 100000) %}{% endfor %}{% endfor %}' }), { timeoutMs: 300 }),
    );
    expect(err.kind).toBe('timeout');
    expect(err.message).toBe('rendering took longer than the time limit of 300 ms');
    expect(await userData('after {{ 1 + 1 }}')).toBe('after 2');
  });

  it('stops giant output at the size limit', async () => {
    for (const source of [
      '{% for i in range(0, 100000) %}0123456789{% endfor %}',
      '{% macro m() %}{% for i in range(0, 1000) %}0123456789{% endfor %}{% endmacro %}{% for i in range(0, 1000) %}{{ m() }}{% endfor %}',
      '{% set x %}{% for i in range(0, 100000) %}0123456789{% endfor %}{% endset %}',
      '{{ "0123456789".repeat(100000000) }}',
      '{{ "x".padStart(1000000000) }}',
    ]) {
      const err = await failure(userData(source));
      expect([source, err.kind]).toEqual([source, 'output-limit']);
      expect(err.message).toMatch(/characters|bytes/);
    }
    // under the work limit but over the output limit once finished
    const err = await failure(userData('{% for i in range(0, 7000) %}0123456789{% endfor %}'));
    expect(err.problems[0]).toEqual({ field: 'userData', message: 'the rendered files are larger than 65536 bytes' });
  });

  it('refuses to build huge ranges', async () => {
    expect((await failure(userData('{% for i in range(0, 100000000) %}{% endfor %}'))).message).toContain(
      'range() of 100000000 items is longer than the limit of 100000',
    );
  });

  it('stops a render that exhausts the worker heap', async () => {
    const small = new ProcessRenderer({ memoryMb: 32, timeoutMs: 20_000 });
    try {
      const err = await failure(
        small.render(job({ 't/userData': '{% set a = range(0, 100000) %}{% for i in range(0, 30) %}{% set a = a.concat(a) %}{% endfor %}{{ a.length }}' })),
      );
      expect(err.kind).toBe('memory');
      expect(err.message).toBe('rendering ran out of memory (the limit is 32 MiB)');
      expect(await small.render(job({ 't/userData': 'ok' }))).toEqual({ userData: 'ok' });
    } finally {
      await small.close();
    }
  });
});

describe('ProcessRenderer', () => {
  it('reuses its workers and renders in parallel up to the pool size', async () => {
    const pool = new ProcessRenderer({ poolSize: 2 });
    try {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.render(job({ 't/userData': `{{ ${i} * 2 }}` }))));
      expect(results.map((r) => r.userData)).toEqual(['0', '2', '4', '6', '8', '10']);
      expect(pool.workerCount).toBe(2);
    } finally {
      await pool.close();
    }
    await expect(pool.render(job({ 't/userData': 'x' }))).rejects.toThrow('the renderer is closed');
  });
});
