// The OpenAPI 3.1 document of the history API, served at GET /api/v1/openapi.json.
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
const nullable = (schema: Record<string, unknown>) => ({ ...schema, type: [schema.type as string, 'null'] });
const time = (description: string) => str(description, { format: 'date-time' });
const int = (description: string) => ({ type: 'integer', description });

const limit = { name: 'limit', in: 'query', required: false, description: 'Items per page, 1 to 1000.', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } };
const cursor = { name: 'cursor', in: 'query', required: false, description: 'Opaque position from the previous page (follow its `next` link instead of building this).', schema: { type: 'string' } };
const pathParam = (name: string, description: string, extra: Record<string, unknown> = {}) => ({ name, in: 'path', required: true, description, schema: { type: 'string', ...extra } });

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  '400': json(ref('Error'), 'A parameter is invalid; `message` says which and why.'),
  '500': json(ref('Error'), 'The history database failed.'),
};
const page = (item: string) => ({
  type: 'object',
  required: ['items', 'next'],
  properties: { items: { type: 'array', items: ref(item) }, next: { type: ['string', 'null'], description: 'Relative URL of the next page; null on the last page.' } },
});
const rates = {
  total: int('Installs finished in the window.'),
  succeeded: int('Installs that ended SUCCESS.'),
  failed: int('Installs that ended FAIL (installer failure, timeout, ...).'),
  cancelled: int('Installs that ended CANCELLED (superseded by a new revision, host deleted).'),
  successRate: { type: ['number', 'null'], description: 'succeeded / (succeeded + failed); null when both are 0.' },
  p50DurationSeconds: { type: ['number', 'null'], description: 'Median duration of successful installs (continuous percentile).' },
  p95DurationSeconds: { type: ['number', 'null'], description: '95th percentile duration of successful installs.' },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'anvil install history',
    version: 'v1',
    description: 'Read-only history of bare-metal installs kept by the anvil operator: installations per host, installer events, failures and statistics. Lists are keyset-paginated: follow `next` until it is null.',
  },
  paths: {
    '/api/v1/hosts/{namespace}/{name}/installations': {
      get: {
        operationId: 'listHostInstallations',
        summary: "A BareMetalHost's installations, newest first.",
        parameters: [pathParam('namespace', 'Namespace of the BareMetalHost.'), pathParam('name', 'Name of the BareMetalHost.'), limit, cursor],
        responses: { '200': json(page('Installation'), 'A page of installations.'), ...errors },
      },
    },
    '/api/v1/installations/{id}': {
      get: {
        operationId: 'getInstallation',
        summary: 'One installation with its phases and its first page of installer events.',
        parameters: [pathParam('id', 'The installation id (status.currentInstall.installationId).', { format: 'uuid' }), { ...limit, description: 'Events to include, 1 to 1000.' }],
        responses: { '200': json(ref('InstallationDetail'), 'The installation.'), '404': json(ref('Error'), 'No installation with this id.'), ...errors },
      },
    },
    '/api/v1/installations/{id}/events': {
      get: {
        operationId: 'listInstallationEvents',
        summary: "An installation's installer events in event-time order.",
        parameters: [pathParam('id', 'The installation id.', { format: 'uuid' }), limit, cursor],
        responses: { '200': json(page('InstallerEvent'), 'A page of events.'), '404': json(ref('Error'), 'No installation with this id.'), ...errors },
      },
    },
    '/api/v1/failures': {
      get: {
        operationId: 'listFailures',
        summary: 'Failed installations, most recent first.',
        parameters: [
          { name: 'since', in: 'query', required: false, description: 'An RFC 3339 time, or a duration back from now such as 30m, 24h, 7d, 2w (default 7d).', schema: { type: 'string', default: '7d' } },
          { name: 'namespace', in: 'query', required: false, description: 'Only hosts in this namespace.', schema: { type: 'string' } },
          limit,
          cursor,
        ],
        responses: { '200': json(page('Installation'), 'A page of failed installations.'), ...errors },
      },
    },
    '/api/v1/stats': {
      get: {
        operationId: 'installStats',
        summary: 'Success rate and p50/p95 install duration, overall and per template, over a window ending now.',
        parameters: [{ name: 'window', in: 'query', required: false, description: 'A duration such as 24h, 7d, 4w (at most 366d; default 7d).', schema: { type: 'string', default: '7d' } }],
        responses: { '200': json(ref('Stats'), 'Statistics.'), ...errors },
      },
    },
    '/api/v1/openapi.json': {
      get: { operationId: 'openApi', summary: 'This document.', responses: { '200': { description: 'OpenAPI 3.1 document.', content: { 'application/json': {} } } } },
    },
  },
  components: {
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'message'],
        properties: { error: str('BadRequest, NotFound or InternalError.'), message: str('What went wrong, for a human.') },
      },
      Installation: {
        type: 'object',
        required: ['id', 'host', 'mac', 'template', 'revision', 'attempt', 'startedAt', 'finishedAt', 'result', 'durationSeconds', 'failureReason', 'failureMessage'],
        properties: {
          id: str('Installation id (a UUID; status.currentInstall.installationId).', { format: 'uuid' }),
          host: { type: 'object', required: ['namespace', 'name', 'uid'], properties: { namespace: str('Namespace.'), name: str('Name.'), uid: str('metadata.uid of the BareMetalHost at the time.') } },
          mac: str('Boot MAC address, lower case.'),
          template: {
            type: 'object',
            required: ['name', 'contentHash', 'generation'],
            properties: { name: nullable(str('AutoinstallTemplate name.')), contentHash: nullable(str('Hash of the rendered content.')), generation: { type: ['integer', 'null'], description: 'metadata.generation of the template.' } },
          },
          revision: int('spec.provisioning.revision installed.'),
          attempt: int('Attempt number of the host (every retry and reinstall takes the next).'),
          startedAt: time('When the attempt started.'),
          finishedAt: nullable(time('When it finished; null while running.')),
          result: { type: ['string', 'null'], enum: ['SUCCESS', 'FAIL', 'CANCELLED', null], description: 'Result; null while running.' },
          durationSeconds: { type: ['integer', 'null'], description: 'finishedAt - startedAt in seconds.' },
          failureReason: nullable(str('Why it ended, in CamelCase (e.g. InstallerFailed, Timeout, Superseded).')),
          failureMessage: nullable(str('Detail, e.g. the failing installer event.')),
        },
      },
      InstallerEvent: {
        type: 'object',
        required: ['id', 'installationId', 'eventKey', 'name', 'eventType', 'result', 'origin', 'level', 'description', 'eventTime', 'receivedAt', 'raw'],
        properties: {
          id: str('Event id.', { format: 'uuid' }),
          installationId: str('Installation id.', { format: 'uuid' }),
          eventKey: str('Idempotency key (name|event_type|result|timestamp).'),
          name: str('Event name as sent by subiquity/curtin, e.g. subiquity/Install/install/curthooks.'),
          eventType: str('start, finish, info, warning, error or log.'),
          result: nullable(str('SUCCESS, WARN or FAIL on finish events.')),
          origin: nullable(str('subiquity or curtin.')),
          level: nullable(str('Log level.')),
          description: nullable(str('Description.')),
          eventTime: time('The installer’s timestamp (or when received, without one).'),
          receivedAt: time('When the boot-server received it.'),
          raw: { type: ['object', 'null'], description: 'The body as the installer sent it.' },
        },
      },
      Phase: {
        type: 'object',
        required: ['name', 'depth', 'startedAt', 'finishedAt', 'durationSeconds', 'result'],
        properties: {
          name: str('Event name of the start/finish pair.'),
          depth: int('How many phases enclose this one.'),
          startedAt: nullable(time('Start event time.')),
          finishedAt: nullable(time('Finish event time; null if not finished.')),
          durationSeconds: { type: ['number', 'null'], description: 'Seconds between start and finish.' },
          result: nullable(str('Result of the finish event.')),
          description: nullable(str('Description.')),
        },
      },
      InstallationDetail: {
        type: 'object',
        required: ['installation', 'phases', 'events', 'eventsNext'],
        properties: {
          installation: ref('Installation'),
          phases: { type: 'array', items: ref('Phase'), description: 'Phases derived from start/finish event pairs, in start order.' },
          events: { type: 'array', items: ref('InstallerEvent'), description: 'The first page of events.' },
          eventsNext: { type: ['string', 'null'], description: 'Relative URL of the next page of events.' },
        },
      },
      TemplateStats: { type: 'object', required: ['template', ...Object.keys(rates)], properties: { template: nullable(str('AutoinstallTemplate name; null when none was recorded.')), ...rates } },
      Stats: {
        type: 'object',
        required: ['window', 'since', 'until', 'overall', 'templates'],
        properties: {
          window: str('The window asked for, e.g. 7d.'),
          since: time('Start of the window (inclusive).'),
          until: time('End of the window (exclusive; now).'),
          overall: { type: 'object', required: Object.keys(rates), properties: rates },
          templates: { type: 'array', items: ref('TemplateStats') },
        },
      },
    },
  },
} as const;
