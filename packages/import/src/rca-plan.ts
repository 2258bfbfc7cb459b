// How the rca-dataset importer reads one CSV file: the columns it recognises and what it makes of
// the file. Shared by the importer (rca-dataset.ts) and its span reader (rca-spans.ts).

/** Header names (lowercased, without separators) recognised for each identifying column. */
export const ID_COLUMNS = {
  pod: ['podname', 'pod', 'podid'],
  service: ['servicename', 'service', 'svc'],
  container: ['container', 'containername'],
  node: ['node', 'nodename', 'host', 'hostname'],
  namespace: ['namespace', 'ns'],
  log: ['log', 'message', 'msg', 'line', 'content'],
  trace: ['traceid'],
  span: ['spanid'],
  parent: ['parentid', 'parentspanid'],
  start: ['starttimeunixnano', 'starttime', 'start'],
  end: ['endtimeunixnano', 'endtime', 'end'],
  duration: ['duration', 'durationus', 'durationms'],
  operation: ['operationname', 'operation', 'spanname'],
} as const;
export type IdColumn = keyof typeof ID_COLUMNS;
export type Columns = Partial<Record<IdColumn, number>> & { times: number[] };

/** What a CSV file holds, from its header. */
export type FileKind = 'logs' | 'spans' | 'metrics';

/** One CSV file of the dataset, classified by its header. */
export interface Plan {
  file: string;
  rel: string;
  header: string[];
  cols: Columns;
  kind: FileKind;
  /** A file of the fault-free reference: all its rows are kept, whatever the window. */
  baseline: boolean;
}
