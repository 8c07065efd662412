// Injected transport-level faults: pveproxy or the node answering 5xx/596 instead of handling a request.
export interface HttpFault {
  method?: string;
  /** Matches the path template or the decoded path (string: exact, RegExp: test). */
  path?: string | RegExp;
  status: number;
  message: string;
  times: number;
}

export type HttpFaultSpec = Omit<HttpFault, 'message' | 'times'> & { message?: string; times?: number };

const DEFAULT_MESSAGES: Record<number, string> = { 596: 'Connection timed out', 503: 'Service Unavailable', 500: 'Internal Server Error' };

export class HttpFaults {
  private readonly faults: HttpFault[] = [];

  add(fault: HttpFaultSpec): void {
    this.faults.push({ ...fault, message: fault.message ?? DEFAULT_MESSAGES[fault.status] ?? 'injected failure', times: fault.times ?? 1 });
  }

  /** The first fault matching this request, counted down (and forgotten when used up). */
  take(method: string, path: string, template: string): HttpFault | undefined {
    const i = this.faults.findIndex(
      (f) =>
        (!f.method || f.method === method) &&
        (f.path === undefined || (typeof f.path === 'string' ? f.path === path || f.path === template : f.path.test(path))),
    );
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (--f.times <= 0) this.faults.splice(i, 1);
    return f;
  }
}
