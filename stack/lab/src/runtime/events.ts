// Events, as the kubelet and the controllers record them: one per (object, reason, message),
// counted on repeat, appended to the lab's events file so they outlive the supervisor.
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import type { KubeObject } from '../kube-api.js';
import type { RuntimeOptions } from './cluster.js';
import { now, type LabPod } from './pod.js';

/** The object an event is about. */
export interface InvolvedObject {
  kind: string;
  name: string;
  uid?: string;
}

/** The lab's event recorder. */
export class Events {
  private readonly events: KubeObject[] = [];

  constructor(private readonly o: RuntimeOptions) {
    try {
      for (const line of readFileSync(o.paths.events, 'utf8').split('\n')) {
        if (!line) continue;
        const ev = JSON.parse(line) as KubeObject;
        const i = this.events.findIndex((e) => e.metadata.name === ev.metadata.name);
        if (i >= 0) this.events[i] = ev;
        else this.events.push(ev);
      }
    } catch {
      /* no events yet */
    }
  }

  /** Every event recorded, oldest first. */
  list(): KubeObject[] {
    return this.events;
  }

  record(
    obj: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component = 'kubelet',
  ): void {
    const t = now();
    const existing = this.events.find(
      (e) =>
        (e.involvedObject as { name: string }).name === obj.name &&
        e.reason === reason &&
        e.message === message,
    );
    let ev: KubeObject;
    if (existing) {
      existing.count = (existing.count as number) + 1;
      existing.lastTimestamp = t;
      existing.metadata.resourceVersion = String(Date.now());
      ev = existing;
    } else {
      ev = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${obj.name}.${randomBytes(8).toString('hex')}`,
          namespace: this.o.namespace,
          uid: randomUUID(),
          creationTimestamp: t.replace(/\.\d+Z$/, 'Z'),
          resourceVersion: String(Date.now()),
        },
        involvedObject: {
          kind: obj.kind,
          name: obj.name,
          namespace: this.o.namespace,
          apiVersion: obj.kind === 'Pod' ? 'v1' : 'apps/v1',
          ...(obj.uid ? { uid: obj.uid } : {}),
        },
        reason,
        message,
        source: { component, ...(component === 'kubelet' ? { host: 'lab' } : {}) },
        firstTimestamp: t,
        lastTimestamp: t,
        eventTime: null,
        count: 1,
        type,
        reportingComponent: component,
        reportingInstance: component === 'kubelet' ? 'lab' : '',
      };
      this.events.push(ev);
    }
    try {
      appendFileSync(this.o.paths.events, `${JSON.stringify(ev)}\n`);
    } catch {
      /* the state folder went away (down --purge racing): the in-memory copy stays */
    }
    this.o.onChange?.();
  }

  /** An event of the kubelet about a pod. */
  pod(pod: LabPod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.record({ kind: 'Pod', name: pod.name, uid: pod.uid }, type, reason, message);
  }
}
