export { historyRouter, parseDuration, type HistoryRouterOptions } from './history-router.js';
export { openApiDocument } from './openapi.js';
