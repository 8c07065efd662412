import * as s from './schema.js';

const json = (schema: s.TSchema) => s.toJsonSchema(schema);

describe('schema helpers', () => {
  it('refuse a missing description', () => {
    expect(() => s.string('')).toThrow(/description/);
    expect(() => s.integer('  ')).toThrow(/description/);
    expect(() => s.object('', {})).toThrow(/description/);
  });

  it('emit a string enum as {type: string, enum}, never anyOf/const', () => {
    expect(json(s.stringEnum('Mode.', ['A', 'B'], { default: 'B' }))).toEqual({ description: 'Mode.', type: 'string', enum: ['A', 'B'], default: 'B' });
    expect(() => s.stringEnum('Mode.', ['A', 'B'], { default: 'C' as 'A' })).toThrow(/default/);
  });

  it('emit only the options given', () => {
    expect(json(s.string('S.'))).toEqual({ description: 'S.', type: 'string' });
    expect(json(s.string('S.', { pattern: '^a$', maxLength: 3, format: 'date-time' }))).toEqual({
      description: 'S.',
      type: 'string',
      format: 'date-time',
      pattern: '^a$',
      maxLength: 3,
    });
    expect(json(s.integer('I.', { minimum: 0, default: 0, format: 'int32' }))).toEqual({ description: 'I.', type: 'integer', format: 'int32', minimum: 0, default: 0 });
    expect(json(s.boolean('B.', { default: true }))).toEqual({ description: 'B.', type: 'boolean', default: true });
  });

  it('build objects with a required list and exactly-one-of groups', () => {
    const o = s.object('O.', { a: s.string('A.'), b: s.integer('B.'), c: s.boolean('C.') }, { required: ['a'], exactlyOneOf: [['b'], ['c']] });
    expect(json(o)).toEqual({
      description: 'O.',
      type: 'object',
      properties: { a: { description: 'A.', type: 'string' }, b: { description: 'B.', type: 'integer' }, c: { description: 'C.', type: 'boolean' } },
      required: ['a'],
      oneOf: [{ required: ['b'] }, { required: ['c'] }],
    });
    // Static type: a is required, b and c are optional.
    const value: s.Static<typeof o> = { a: 'x' };
    expect(value.a).toBe('x');
    expect(json(s.object('Empty.', {}, { default: {} }))).toEqual({ description: 'Empty.', type: 'object', properties: {}, default: {} });
    expect(() => s.object('O.', { a: s.string('A.') }, { required: ['b' as 'a'] })).toThrow(/required/);
  });

  it('build lists with an explicit list type and check map keys', () => {
    expect(json(s.array('L.', s.string('Item.'), { maxItems: 2 }))).toEqual({
      description: 'L.',
      type: 'array',
      items: { description: 'Item.', type: 'string' },
      maxItems: 2,
      'x-kubernetes-list-type': 'atomic',
    });
    const item = s.object('Item.', { k: s.string('K.'), v: s.string('V.') }, { required: ['k'] });
    expect(json(s.array('L.', item, { listType: 'map', listMapKeys: ['k'] }))).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'] });
    expect(() => s.array('L.', item, { listType: 'map', listMapKeys: ['v'] })).toThrow(/required/);
    expect(() => s.array('L.', item, { listType: 'set' })).toThrow(/scalar/);
  });

  it('build free-form objects and string maps without patternProperties', () => {
    expect(json(s.freeForm('F.'))).toEqual({ description: 'F.', type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(json(s.stringMap('M.'))).toEqual({ description: 'M.', type: 'object', additionalProperties: { type: 'string' } });
  });

  it('build conditions exactly like metav1.Condition', () => {
    const c = json(s.conditions('Conditions.'));
    expect(c).toMatchObject({ type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
    const items = c.items as { properties: Record<string, { type: string; enum?: string[]; format?: string }>; required: string[] };
    expect(Object.keys(items.properties)).toEqual(['type', 'status', 'observedGeneration', 'lastTransitionTime', 'reason', 'message']);
    expect(items.properties.status!.enum).toEqual(['True', 'False', 'Unknown']);
    expect(items.properties.lastTransitionTime!.format).toBe('date-time');
    expect(items.required.sort()).toEqual(['lastTransitionTime', 'message', 'reason', 'status', 'type']);
  });

  it('drop TypeBox symbols in toJsonSchema', () => {
    const raw = s.string('S.');
    expect(Object.getOwnPropertySymbols(raw).length).toBeGreaterThan(0);
    expect(Object.getOwnPropertySymbols(s.toJsonSchema(raw))).toEqual([]);
  });
});
