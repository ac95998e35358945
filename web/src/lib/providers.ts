// What each gateway provider and transport takes, for the gateway form. Keys match the server's
// config structs (crates/gateway: providers/*/config.rs, transport/*.rs); what is left empty is
// left out, so the server's defaults apply.

export type Kind = 'text' | 'number' | 'bool' | 'password' | 'select';

export interface Setting {
  key: string;
  label: string;
  kind: Kind;
  placeholder?: string;
  hint?: string;
  options?: string[];
  required?: boolean;
}

export interface ProviderSpec {
  type: string;
  label: string;
  transports: string[];
  settings: Setting[];
}

export const TRANSPORTS: Record<string, Setting[]> = {
  serial: [
    { key: 'portname', label: 'Port', kind: 'text', placeholder: '/dev/ttyUSB0', required: true },
    { key: 'baudrate', label: 'Baud rate', kind: 'number', placeholder: '115200' },
    { key: 'transmitPreDelay', label: 'Delay before each send', kind: 'text', placeholder: '10ms' },
  ],
  ethernet: [
    { key: 'server', label: 'Server', kind: 'text', placeholder: 'tcp://192.168.1.20:5003', hint: 'tcp:// or tls://', required: true },
    { key: 'transmitPreDelay', label: 'Delay before each send', kind: 'text', placeholder: '10ms' },
    { key: 'insecure', label: 'Skip TLS certificate check', kind: 'bool' },
  ],
  mqtt: [
    { key: 'broker', label: 'Broker', kind: 'text', placeholder: 'tcp://127.0.0.1:1883', required: true },
    { key: 'username', label: 'Username', kind: 'text' },
    { key: 'password', label: 'Password', kind: 'password' },
    { key: 'clientId', label: 'Client id', kind: 'text', placeholder: 'generated' },
    { key: 'subscribe', label: 'Subscribe to', kind: 'text', placeholder: 'mygateway1-out/#', hint: 'topics, comma-separated' },
    { key: 'publish', label: 'Publish to', kind: 'text', placeholder: 'mygateway1-in' },
    { key: 'qos', label: 'QoS', kind: 'select', options: ['0', '1', '2'] },
    { key: 'keepAlive', label: 'Keep-alive', kind: 'text', placeholder: '30s' },
    { key: 'insecure', label: 'Skip TLS certificate check', kind: 'bool' },
  ],
  http: [
    { key: 'url', label: 'URL', kind: 'text', placeholder: 'http://192.168.1.30', required: true },
    { key: 'username', label: 'Username', kind: 'text' },
    { key: 'password', label: 'Password', kind: 'password' },
    { key: 'timeout', label: 'Timeout', kind: 'text', placeholder: '10s' },
    { key: 'insecure', label: 'Skip TLS certificate check', kind: 'bool' },
  ],
};

export const PROVIDERS: ProviderSpec[] = [
  {
    type: 'mysensors_v2',
    label: 'MySensors 2.x',
    transports: ['serial', 'ethernet', 'mqtt'],
    settings: [
      { key: 'ackTimeout', label: 'Acknowledgement timeout', kind: 'text', placeholder: '500ms' },
      { key: 'retryCount', label: 'Sends when not acknowledged', kind: 'number', placeholder: '3' },
      { key: 'enableInternalMessageAck', label: 'Ask acks for internal messages', kind: 'bool' },
      { key: 'enableStreamMessageAck', label: 'Ask acks for firmware blocks', kind: 'bool' },
    ],
  },
  { type: 'tasmota', label: 'Tasmota', transports: ['mqtt'], settings: [] },
  {
    type: 'esphome',
    label: 'ESPHome',
    transports: [],
    settings: [
      { key: 'timeout', label: 'Timeout', kind: 'text', placeholder: '10s' },
      { key: 'aliveCheckInterval', label: 'Alive check every', kind: 'text', placeholder: '15s' },
    ],
  },
  {
    type: 'philips_hue',
    label: 'Philips Hue',
    transports: [],
    settings: [
      { key: 'host', label: 'Bridge address', kind: 'text', placeholder: '192.168.1.40', hint: 'https:// unless given; http:// polls API v1', required: true },
      { key: 'username', label: 'Bridge user (token)', kind: 'password', required: true },
      { key: 'apiVersion', label: 'API version', kind: 'number', placeholder: 'v2 when the bridge has it', hint: '1: poll API v1 only; 2: require the event stream' },
      { key: 'certificateFingerprint', label: 'Certificate fingerprint (SHA-256)', kind: 'text', placeholder: 'learned on first connection' },
      { key: 'insecure', label: 'Skip the certificate check', kind: 'bool' },
      { key: 'syncInterval', label: 'Read everything every', kind: 'text', placeholder: '15m' },
    ],
  },
  {
    type: 'system_monitoring',
    label: 'System monitoring',
    transports: [],
    settings: [{ key: 'interval', label: 'Collect every', kind: 'text', placeholder: '1m' }],
  },
  {
    type: 'generic',
    label: 'Generic (scripted)',
    transports: ['mqtt', 'http'],
    settings: [
      { key: 'script', label: 'Decoder script (JavaScript)', kind: 'text', hint: 'edit long scripts in the YAML tab' },
    ],
  },
  {
    type: 'echo',
    label: 'Echo (line protocol, for tests)',
    transports: ['serial', 'ethernet', 'mqtt'],
    settings: [
      { key: 'ackTimeout', label: 'Acknowledgement timeout', kind: 'text', placeholder: '200ms' },
      { key: 'retryCount', label: 'Sends when not acknowledged', kind: 'number', placeholder: '2' },
    ],
  },
];

export function providerSpec(type: unknown): ProviderSpec | undefined {
  return PROVIDERS.find((p) => p.type === type);
}

/** Sets (or, when empty, removes) one key of a config object, converting by its kind. */
export function setSetting(obj: Record<string, unknown>, s: Setting, raw: string | boolean): Record<string, unknown> {
  const out = { ...obj };
  if (raw === '' || raw === false || raw === undefined) {
    delete out[s.key];
    return out;
  }
  if (s.kind === 'number' || (s.kind === 'select' && /^\d+$/.test(String(raw)))) out[s.key] = Number(raw);
  else out[s.key] = raw;
  return out;
}

/** Switching provider keeps the transport when the new provider supports it. */
export function switchProvider(provider: Record<string, unknown>, type: string): Record<string, unknown> {
  const spec = providerSpec(type);
  const protocol = provider.protocol as Record<string, unknown> | undefined;
  const keep = spec && protocol && spec.transports.includes(String(protocol.type));
  const out: Record<string, unknown> = { type };
  if (keep) out.protocol = protocol;
  else if (spec?.transports.length) out.protocol = { type: spec.transports[0] };
  return out;
}
