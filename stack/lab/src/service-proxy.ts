import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** Where a Service sends a connection: a ready pod's local port. */
export interface Endpoint {
  pod: string;
  port: number;
}

/**
 * One Service port, as kube-proxy makes it: a loopback listener that sends each new connection to
 * one of the Service's ready endpoints, in turn. With no ready endpoint the connection is closed at
 * once (as a ClusterIP with no endpoints rejects). Established connections stay where they are,
 * which is why a client that connected once keeps reading the same replica.
 */
export class ServiceProxy {
  private endpoints: Endpoint[] = [];
  private next = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly service: string,
    readonly servicePort: number,
    readonly localPort: number,
  ) {
    this.server = createServer((client) => this.route(client));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.localPort, '127.0.0.1', () => resolve());
    });
  }

  /** Replaces the ready endpoints (sorted by pod name, so the order is stable). */
  setEndpoints(endpoints: Endpoint[]): void {
    this.endpoints = [...endpoints].sort((a, b) => a.pod.localeCompare(b.pod));
  }

  getEndpoints(): readonly Endpoint[] {
    return this.endpoints;
  }

  private route(client: Socket): void {
    if (this.endpoints.length === 0) {
      client.destroy();
      return;
    }
    const ep = this.endpoints[this.next++ % this.endpoints.length]!;
    const upstream = createConnection({ host: '127.0.0.1', port: ep.port });
    this.sockets.add(client);
    this.sockets.add(upstream);
    // Each side's end is passed on (pipe ends the other), so a response the pod sent before closing
    // reaches the client whole; an error on one side resets the other, as a dead pod's would.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      upstream.destroy();
      this.sockets.delete(client);
    });
    upstream.on('close', () => {
      if (!client.writableEnded) client.destroy();
      this.sockets.delete(upstream);
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
