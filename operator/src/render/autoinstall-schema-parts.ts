// Building blocks shared by the sections of anvil's autoinstall schema (autoinstall-schema.ts).

/** A command: a string run with `sh -c`, or an argv list run directly. */
export const commandList = {
  type: 'array',
  description: 'A list of commands; each is a string (run with sh -c) or a list of strings (run directly).',
  items: {
    description: 'A command is a string or a list of strings.',
    anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
  },
};

export const stringList = { type: 'array', items: { type: 'string' } };
