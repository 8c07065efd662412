// The boot-server's HTTP metrics, registered in this order (the order /metrics lists them in).
import { Counter, type Registry } from 'prom-client';

export interface BootHttpMetrics {
  requests: Counter<'route' | 'code'>;
  events: Counter<'outcome'>;
  rateLimited: Counter;
}

export function bootHttpMetrics(registry: Registry): BootHttpMetrics {
  return {
    requests: new Counter({ name: 'anvil_boot_http_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'code'], registers: [registry] }),
    events: new Counter({ name: 'anvil_webhook_events_total', help: 'Installer events by outcome', labelNames: ['outcome'], registers: [registry] }),
    rateLimited: new Counter({ name: 'anvil_boot_http_rate_limited_total', help: 'Requests without a valid token refused with 429 because their source address sent too many', registers: [registry] }),
  };
}
