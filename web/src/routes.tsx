import type { ReactNode } from 'react';
import { DashboardPage } from './pages/Dashboards';
import { FieldEdit, FieldList, SourceList } from './pages/Fields';
import { GatewayEdit, GatewayList } from './pages/Gateways';
import { NodeEdit, NodeList } from './pages/Nodes';
import * as more from './pages/More';
import * as auto from './pages/Automation';
import * as ops from './pages/Operations';

export const routes: [string, (p: Record<string, string>) => ReactNode][] = [
  ['/', () => <DashboardPage />],
  ['/dashboards/:id', (p) => <DashboardPage id={p.id} />],
  ['/gateways', () => <GatewayList />],
  ['/gateways/new', () => <GatewayEdit />],
  ['/gateways/:id', (p) => <GatewayEdit id={p.id} />],
  ['/nodes', () => <NodeList />],
  ['/nodes/:id', (p) => <NodeEdit id={p.id} />],
  ['/sources', () => <SourceList />],
  ['/fields', () => <FieldList />],
  ['/fields/:id', (p) => <FieldEdit id={p.id} />],
  ['/firmware', () => <more.FirmwareList />],
  ['/firmware/new', () => <more.FirmwareEdit />],
  ['/firmware/:id', (p) => <more.FirmwareEdit id={p.id} />],
  ['/datarepositories', () => <more.RepositoryList />],
  ['/datarepositories/new', () => <more.RepositoryEdit />],
  ['/datarepositories/:id', (p) => <more.RepositoryEdit id={p.id} />],
  ['/tasks', () => <auto.TaskList />],
  ['/tasks/new', () => <auto.TaskEdit />],
  ['/tasks/:id', (p) => <auto.TaskEdit id={p.id} />],
  ['/schedules', () => <auto.ScheduleList />],
  ['/schedules/new', () => <auto.ScheduleEdit />],
  ['/schedules/:id', (p) => <auto.ScheduleEdit id={p.id} />],
  ['/handlers', () => <auto.HandlerList />],
  ['/handlers/new', () => <auto.HandlerEdit />],
  ['/handlers/:id', (p) => <auto.HandlerEdit id={p.id} />],
  ['/forwardpayloads', () => <auto.ForwardList />],
  ['/forwardpayloads/new', () => <auto.ForwardEdit />],
  ['/forwardpayloads/:id', (p) => <auto.ForwardEdit id={p.id} />],
  ['/settings', () => <ops.SettingsPage />],
  ['/backup', () => <ops.BackupPage />],
  ['/status', () => <ops.StatusPage />],
  ['/users', () => <ops.UsersPage />],
  ['/tokens', () => <ops.TokensPage />],
  ['/profile', () => <ops.ProfilePage />],
];
