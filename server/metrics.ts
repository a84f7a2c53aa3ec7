// Prometheus text exposition for /metrics: a few counters and gauges of this node, nothing per
// user. Counters count since this process started (Prometheus sums nodes and handles restarts).

export class RelayMetrics {
  envelopesAccepted = 0;
  envelopesDelivered = 0;
  envelopesExpired = 0;
  readonly refusals = new Map<string, number>();

  refused(code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  render(gauges: { connections: number; authenticated: number; queued: number | undefined; storageUp: boolean }): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[string, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${Number.isFinite(value) ? value : 0}`);
    };
    const memory = process.memoryUsage();
    metric('refuge_connections', 'gauge', 'Sockets connected to this node.', [['', gauges.connections]]);
    metric('refuge_authenticated_connections', 'gauge', 'Sockets on this node that proved a device key.', [['', gauges.authenticated]]);
    if (gauges.queued !== undefined) {
      metric('refuge_envelopes_queued', 'gauge', 'Unexpired envelopes waiting in all mailboxes (whole relay).', [['', gauges.queued]]);
    }
    metric('refuge_envelopes_accepted_total', 'counter', 'Envelopes this node stored in a mailbox.', [['', this.envelopesAccepted]]);
    metric('refuge_envelopes_delivered_total', 'counter', 'Envelopes acked by their recipient through this node (and deleted).', [
      ['', this.envelopesDelivered],
    ]);
    metric('refuge_envelopes_expired_total', 'counter', 'Envelopes this node deleted unread after the retention window.', [
      ['', this.envelopesExpired],
    ]);
    const refusals = [...this.refusals.entries()].sort(([a], [b]) => a.localeCompare(b));
    metric(
      'refuge_refusals_total',
      'counter',
      'Requests and envelopes this node refused, by error code.',
      refusals.map(([code, n]) => [`{reason="${code.replace(/[^A-Z0-9_]/g, '_')}"}`, n]),
    );
    metric('refuge_storage_up', 'gauge', '1 if the storage answered the last check.', [['', gauges.storageUp ? 1 : 0]]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident set size of this process.', [['', memory.rss]]);
    metric('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', [['', memory.heapUsed]]);
    return `${lines.join('\n')}\n`;
  }
}
