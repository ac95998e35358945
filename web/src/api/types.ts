// Resource shapes as the server serializes them (crates/core/src/model, served in
// /api/openapi.json under components.schemas). Optional where the server may leave them out.

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
  rawToken?: string;
}

export interface ListAnswer<T> {
  count: number;
  limit: number;
  offset: number;
  data: T[];
}

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
