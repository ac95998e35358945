// Resource shapes as the server serializes them (crates/core/src/model, served in
// /api/openapi.json under components.schemas). The generated openapi.gen.ts (npm run gen:api)
// is the source of truth: list pages come from it directly, and every resource interface below
// is checked against its generated schema at the end of this file (no key the server does not
// have, no value of another type), so `tsc` fails when the route table changes under the console.
// The interfaces only narrow what the document leaves loose (required keys, string unions).

import type { components } from './openapi.gen';

export type Schemas = components['schemas'];

export type Labels = Record<string, string>;
export type Json = unknown;
export type Status = 'ok' | 'up' | 'down' | 'error' | 'unavailable';

export interface State {
  status: Status;
  message: string;
  since?: string | null;
}

export interface Gateway {
  id: string;
  description: string;
  enabled: boolean;
  reconnectDelay: string;
  queueFailedMessage: boolean;
  provider: Record<string, Json>;
  messageLogger: Record<string, Json>;
  labels: Labels;
  others?: Record<string, Json>;
  state?: State;
  modifiedOn?: string | null;
}

export interface Node {
  id: string;
  gatewayId: string;
  nodeId: string;
  name: string;
  labels: Labels;
  others: Record<string, Json>;
  state?: State;
  lastSeen?: string | null;
  modifiedOn?: string | null;
}

export interface Source {
  id: string;
  gatewayId: string;
  nodeId: string;
  sourceId: string;
  name: string;
  labels: Labels;
  others: Record<string, Json>;
  lastSeen?: string | null;
}

export type MetricType = 'none' | 'string' | 'counter' | 'gauge' | 'gauge_float' | 'binary' | 'geo';

export interface FieldValue {
  value: Json;
  isReceived: boolean;
  timestamp?: string | null;
}

export interface Field {
  id: string;
  gatewayId: string;
  nodeId: string;
  sourceId: string;
  fieldId: string;
  name: string;
  metricType: MetricType;
  current: FieldValue;
  previous: FieldValue;
  formatter?: Record<string, Json>;
  unit: string;
  labels: Labels;
  others?: Record<string, Json>;
  noChangeSince?: string | null;
  lastSeen?: string | null;
  modifiedOn?: string | null;
}

export interface Firmware {
  id: string;
  description: string;
  file: { name: string; internalName: string; checksum: string; size: number; modifiedOn?: string | null };
  labels: Labels;
  modifiedOn?: string | null;
}

export interface TaskState {
  lastEvaluation?: string | null;
  lastSuccess?: string | null;
  message: string;
  lastDuration: string;
  lastStatus: boolean;
  executedCount: number;
  lastTriggered?: string | null;
}

export interface RuleCondition {
  variable: string;
  operator: string;
  value: Json;
}

export interface Task {
  id: string;
  description: string;
  labels: Labels;
  enabled: boolean;
  ignoreDuplicate: boolean;
  autoDisable: boolean;
  reEnable: boolean;
  reEnableDuration: string;
  variables: Record<string, Json>;
  dampening: { type: string; occurrences: number; evaluation: number; activeDuration: string };
  triggerOnEvent: boolean;
  eventFilter: { eventTypes: string[]; entityTypes: string[]; filters: Record<string, Json> };
  executionInterval: string;
  evaluationType: string;
  evaluationConfig: Record<string, Json>;
  handlerParameters: Record<string, Json>;
  handlers: string[];
  state?: TaskState;
  modifiedOn?: string | null;
}

export interface Schedule {
  id: string;
  description: string;
  enabled: boolean;
  labels: Labels;
  validity: { enabled: boolean; date: Record<string, string>; time: Record<string, string>; validateTimeEveryday: boolean };
  type: string;
  spec: Record<string, Json>;
  variables: Record<string, Json>;
  customVariableType: string;
  customVariableConfig: Record<string, Json>;
  handlerParameters: Record<string, Json>;
  handlers: string[];
  missedRun: string;
  state?: { lastRun?: string | null; lastStatus: boolean; message: string; executedCount: number; nextRun?: string | null };
  modifiedOn?: string | null;
}

export interface Handler {
  id: string;
  description: string;
  enabled: boolean;
  labels: Labels;
  type: string;
  spec: Record<string, Json>;
  state?: State;
  modifiedOn?: string | null;
}

export interface ForwardPayload {
  id: string;
  description: string;
  enabled: boolean;
  srcFieldId: string;
  dstFieldId: string;
  transform: { type: string; source: string };
  labels: Labels;
  modifiedOn?: string | null;
}

export interface WidgetLayout {
  w: number;
  h: number;
  x: number;
  y: number;
}

export interface Widget {
  id: string;
  title: string;
  showTitle: boolean;
  scrollbarDisabled: boolean;
  static: boolean;
  type: string;
  layout: WidgetLayout;
  config: Record<string, Json>;
}

export interface Dashboard {
  id: string;
  type: string;
  title: string;
  description: string;
  favorite: boolean;
  disabled: boolean;
  labels: Labels;
  widgets: Widget[];
  modifiedOn?: string | null;
}

export interface DataRepository {
  id: string;
  readOnly: boolean;
  description: string;
  labels: Labels;
  data: Record<string, Json>;
  modifiedOn?: string | null;
}

export interface User {
  id: string;
  username: string;
  email: string;
  fullName: string;
  roles: string[];
  labels: Labels;
  password?: string;
  modifiedOn?: string | null;
}

export interface ServiceToken {
  id: string;
  userId: string;
  name: string;
  description: string;
  neverExpire: boolean;
  expiresOn?: string | null;
  labels: Labels;
  createdOn?: string | null;
}

/** The answer to creating a token: the only time the raw token is shown (not in the schema). */
export interface CreatedServiceToken extends ServiceToken {
  rawToken?: string;
}

/** A page of a list route: the generated `Page` schema, with its items typed. */
export type ListAnswer<T> = Required<Omit<Schemas['Page'], 'data'>> & { data: T[] };

export interface LiveEvent {
  type: 'created' | 'updated' | 'deleted' | 'requested';
  entityType: string;
  entityId: string;
  entityQuickId: string;
  entity: Record<string, Json>;
}

export interface Profile {
  id: string;
  username: string;
  roles: string[];
  access?: string;
  fullName?: string;
  email?: string;
  expiresOn?: string;
}

export interface MetricRow {
  timestamp: string;
  values: Record<string, number | string>;
}

// ---- checks against the generated schemas (compile time only)

/** Keys the hand-written type has that the server's schema does not. */
type Unknown<H, S> = Exclude<keyof H, keyof S>;
/** `never` when H's keys all exist in S and H's values fit S's. */
type Mismatch<H, S> = [Unknown<H, S>] extends [never] ? (H extends S ? never : { notAssignable: H }) : { unknownKeys: Unknown<H, S> };
type MustBeNever<T extends never> = T;

export type SchemaChecks = [
  MustBeNever<Mismatch<Gateway, Schemas['gateway']>>,
  MustBeNever<Mismatch<Node, Schemas['node']>>,
  MustBeNever<Mismatch<Source, Schemas['source']>>,
  MustBeNever<Mismatch<Field, Schemas['field']>>,
  MustBeNever<Mismatch<Firmware, Schemas['firmware']>>,
  MustBeNever<Mismatch<Task, Schemas['task']>>,
  MustBeNever<Mismatch<Schedule, Schemas['schedule']>>,
  MustBeNever<Mismatch<Handler, Schemas['handler']>>,
  MustBeNever<Mismatch<ForwardPayload, Schemas['forwardpayload']>>,
  MustBeNever<Mismatch<Dashboard, Schemas['dashboard']>>,
  MustBeNever<Mismatch<DataRepository, Schemas['datarepository']>>,
  MustBeNever<Mismatch<User, Schemas['user']>>,
  MustBeNever<Mismatch<ServiceToken, Schemas['servicetoken']>>,
];
