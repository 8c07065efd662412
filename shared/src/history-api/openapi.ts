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
        summary: 'Failed installations with their failed stage and reason, most recently received first.',
        description:
          'Ordered and filtered by `finishReceivedAt`, the server’s clock when the result arrived: `finishedAt` is the installer’s clock, which can be far off on a machine without a set clock.',
        parameters: [
          { name: 'since', in: 'query', required: false, description: 'Results received at or after this RFC 3339 time, or a duration back from now such as 30m, 24h, 7d, 2w (default 7d).', schema: { type: 'string', default: '7d' } },
          { name: 'namespace', in: 'query', required: false, description: 'Only hosts in this namespace.', schema: { type: 'string' } },
          limit,
          cursor,
        ],
        responses: { '200': json(page('Installation'), 'A page of failed installations.'), ...errors },
      },
    },
    '/api/v1/templates/{namespace}/{name}/rollout-decisions': {
      get: {
        operationId: 'listRolloutDecisions',
        summary: "An AutoinstallTemplate's rollout decisions (gate verdicts, waves, health results, halts, rollbacks), newest first, with what triggered each.",
        parameters: [pathParam('namespace', 'Namespace of the AutoinstallTemplate.'), pathParam('name', 'Name of the AutoinstallTemplate.'), limit, cursor],
        responses: { '200': json(page('RolloutDecision'), 'A page of decisions.'), ...errors },
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
        required: ['id', 'host', 'mac', 'template', 'revision', 'attempt', 'startedAt', 'finishedAt', 'finishReceivedAt', 'result', 'durationSeconds', 'failureReason', 'failureMessage', 'failureStage'],
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
          startedAt: time('When the attempt started, by the server’s clock (its first boot request or installer event).'),
          finishedAt: nullable(time('When it finished, by the clock of whoever reported the result (the installer’s for its own result); null while running.')),
          finishReceivedAt: nullable(time('When the server received the result, by its own clock; null while running.')),
          result: { type: ['string', 'null'], enum: ['SUCCESS', 'FAIL', 'CANCELLED', null], description: 'Result; null while running.' },
          durationSeconds: {
            type: ['integer', 'null'],
            description: 'Seconds on the installer’s clock: from its earliest installer event to finishedAt (from startedAt when there were no events or they are later than finishedAt).',
          },
          failureReason: nullable(str('Why it ended, in CamelCase (e.g. InstallerFailed, Timeout, Superseded).')),
          failureMessage: nullable(str('Detail: for an installer failure, the description of the deepest failing step.')),
          failureStage: nullable(str('The install stage that failed (early_commands, configure_apt, partitioning, extract, curthooks, postinstall, late_commands, or a curtin step name); null when unknown.')),
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
        required: ['name', 'label', 'parent', 'depth', 'startedAt', 'finishedAt', 'durationSeconds', 'result', 'description', 'finishDescription', 'closedBy'],
        properties: {
          name: str('Context name of the start/finish pair, without a trailing /.'),
          label: str('The name below the parent’s (the whole name for a root); run_curtin_step phases also name their step, e.g. "run_curtin_step (partitioning)".'),
          parent: { type: ['integer', 'null'], description: 'Index in `phases` of the nearest phase whose name is a path-prefix of this one; null for a root.' },
          depth: int('How many phases enclose this one.'),
          startedAt: nullable(time('Start event time (installer’s clock); null for a finish whose start never arrived.')),
          finishedAt: nullable(time('Finish event time, or the finish of the ancestor that closed it (closedBy); null while open.')),
          durationSeconds: { type: ['number', 'null'], description: 'Seconds between start and finish on the installer’s clock; null when either is missing.' },
          result: nullable(str('SUCCESS, WARN or FAIL from the finish event; null while open or when closed by an ancestor.')),
          description: nullable(str('The start event’s description (the finish’s when the start had none).')),
          finishDescription: nullable(str('The finish event’s description when it differs (subiquity puts the error there).')),
          closedBy: nullable(str('For a start that never got its finish: the ancestor whose finish closed it.')),
        },
      },
      InstallationDetail: {
        type: 'object',
        required: ['installation', 'phases', 'events', 'eventsNext'],
        properties: {
          installation: ref('Installation'),
          phases: { type: 'array', items: ref('Phase'), description: 'Phases from start/finish event pairs, nested by name; in tree order (each phase followed by its descendants, siblings in time order).' },
          events: { type: 'array', items: ref('InstallerEvent'), description: 'The first page of events.' },
          eventsNext: { type: ['string', 'null'], description: 'Relative URL of the next page of events.' },
        },
      },
      RolloutDecision: {
        type: 'object',
        required: ['id', 'template', 'time', 'type', 'message', 'revision', 'hosts', 'trigger'],
        properties: {
          id: str('Decision id.', { format: 'uuid' }),
          template: { type: 'object', required: ['namespace', 'name'], properties: { namespace: str('Namespace.'), name: str('AutoinstallTemplate name.') } },
          time: time('When the rollout controller decided.'),
          type: str('GateVerdict, WaveStarted, WaveVerified, HostUnhealthy, RolloutHalted, RollbackStarted, RolledBack, RollbackFailed or RolloutCompleted.'),
          message: str('What was decided and why.'),
          revision: nullable(int('The template revision the decision is about.')),
          hosts: { type: 'array', items: { type: 'string' }, description: 'The BareMetalHosts it concerns.' },
          trigger: str('Who or what triggered it, e.g. "revision 4 of the template", "spec.rollout.approvedRevision=4".'),
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
