import { startJsonChild, type JsonChild } from './json-child.js';
import type { ClientsConfig, ClientsReport } from './clients-main.js';

/** A process of many clients (clients-main.ts). */
export interface ClientsProcess extends JsonChild<{ pid: number }> {
  /** `expected`: per room, the number of events emitted to it so far. */
  report(expected?: Record<string, number>): Promise<ClientsReport>;
  close(): Promise<void>;
}

export async function startClients(config: ClientsConfig): Promise<ClientsProcess> {
  const child = await startJsonChild<{ pid: number }>('clients-main.ts', config);
  return Object.assign(child, {
    report: (expected?: Record<string, number>) => child.request<ClientsReport>('report', { expected }),
    close: () => child.request<undefined>('close').then(() => undefined),
  });
}

/** Adds up the reports of several client processes. */
export function mergeReports(reports: readonly ClientsReport[]): ClientsReport {
  const merged: ClientsReport = {
    clients: 0,
    open: 0,
    pairs: 0,
    complete: 0,
    started: 0,
    behind: [],
    received: 0,
    violations: 0,
    repeated: 0,
    skipped: 0,
    wrongStream: 0,
    idOrder: 0,
    samples: [],
    gaps: 0,
    errors: [],
    opens: 0,
    byNode: {},
    moved: 0,
  };
  for (const report of reports) {
    merged.clients += report.clients;
    merged.open += report.open;
    merged.pairs += report.pairs;
    merged.complete += report.complete;
    merged.started += report.started;
    merged.behind.push(...report.behind);
    merged.received += report.received;
    merged.violations += report.violations;
    merged.repeated += report.repeated;
    merged.skipped += report.skipped;
    merged.wrongStream += report.wrongStream;
    merged.idOrder += report.idOrder;
    merged.samples.push(...report.samples);
    merged.gaps += report.gaps;
    merged.errors.push(...report.errors);
    merged.opens += report.opens;
    merged.moved += report.moved;
    for (const [node, count] of Object.entries(report.byNode)) merged.byNode[node] = (merged.byNode[node] ?? 0) + count;
  }
  return merged;
}
