import type { BundleEvent, Change, Manifest, Pod, Warning } from '@hindsight/core';
import type { Report } from '@hindsight/investigate';

/** The JSON the server answers with. The app (packages/web/app) imports these shapes as types. */

/** A series as listed, without its points. */
export interface SeriesInfo {
  /** Stable within a bundle: `name{k=v,...}`, labels sorted, `source` left out (as findings' signals). */
  key: string;
  name: string;
  labels: Record<string, string>;
  kind: 'gauge' | 'counter';
  unit?: string;
  component?: string;
  pod?: string;
  points: number;
}

/** A series with its points; counters are turned into per-second rates (`rate: true`). */
export interface SeriesData extends SeriesInfo {
  rate: boolean;
  data: Array<[number, number]>;
}

/** A change with the id the app links by. */
export interface ChangeView extends Change {
  id: string;
  timeMs: number;
}

/** One entry of the timeline across components. */
export interface TimelineItem {
  id: string;
  kind: 'change' | 'event' | 'anomaly';
  timeMs: number;
  component?: string;
  pod?: string;
  title: string;
  detail?: string;
  severity: 'info' | 'warning' | 'critical';
  /** What the entry opens: a change's diff, a series' chart, a template's lines, a finding (added by the app from the report). */
  ref?: { change: string } | { series: string } | { template: string } | { finding: string };
}

/** A log template mined from one component's container logs. */
export interface TemplateInfoView {
  /** The miner's id (suffixed `@group` if two groups share a template). */
  id: string;
  template: string;
  /** `workload/container`: findings name a template `log:<group>:<id>`. */
  group: string;
  component: string;
  container: string;
  count: number;
  /** Lines per pod. */
  pods: Record<string, number>;
}

/** A template's rate per pod, in lines per second per bucket. */
export interface TemplateRates {
  template: TemplateInfoView;
  bucketMs: number;
  /** null where the pod logged nothing at all (before it started, after it stopped). */
  pods: Array<{ pod: string; data: Array<[number, number | null]> }>;
}

/** One log line behind a template. */
export interface TemplateLine {
  pod: string;
  container: string;
  timeMs: number;
  lineNo: number;
  text: string;
}

/** The state of the bundle as the app first asks for it. */
export type Overview =
  | { state: 'loading'; bundle: string }
  | { state: 'error'; bundle: string; error: { code: string; message: string; where?: string } }
  | {
      state: 'ready';
      bundle: string;
      manifest: Manifest;
      components: string[];
      pods: Array<Pick<Pod, 'name' | 'namespace' | 'component' | 'phase'>>;
      warnings: Warning[];
      counts: { series: number; changes: number; events: number; templates: number; logLines: number };
      /** The investigation, as `investigate` returned it; null when it could not run. */
      report: Report | null;
    };

export type { BundleEvent };
