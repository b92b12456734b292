/**
 * TypeScript types of RabbitMQ's definitions JSON (GET /api/definitions, `rabbitmqctl
 * export_definitions`), which is also Warren's on-disk definitions format. Every top-level array is
 * optional on import (RabbitMQ accepts partial files); an export fills them all.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** x-arguments of queues, exchanges and bindings; policy definitions. */
export type DefinitionArguments = Record<string, JsonValue>;

export interface UserDefinition {
  name: string;
  /** base64 of salt (4 bytes) + hash, as rabbit_password_hashing_sha256 makes it. */
  password_hash: string;
  hashing_algorithm: string;
  /** RabbitMQ 3.10 exports an array; older versions a comma-separated string. */
  tags: string[] | string;
  limits?: Record<string, number>;
}

export interface VhostDefinition {
  name: string;
  description?: string;
  tags?: string[];
  default_queue_type?: string;
  metadata?: { description?: string; tags?: string[]; default_queue_type?: string };
  limits?: Record<string, number>;
}

export interface PermissionDefinition {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

export interface TopicPermissionDefinition {
  user: string;
  vhost: string;
  exchange: string;
  write: string;
  read: string;
}

export interface ParameterDefinition {
  vhost: string;
  component: string;
  name: string;
  value: JsonValue;
}

export interface GlobalParameterDefinition {
  name: string;
  value: JsonValue;
}

export interface PolicyDefinition {
  vhost: string;
  name: string;
  pattern: string;
  'apply-to': 'queues' | 'exchanges' | 'all' | 'classic_queues' | 'quorum_queues' | 'streams';
  definition: DefinitionArguments;
  priority: number;
}

export interface QueueDefinition {
  name: string;
  vhost: string;
  durable: boolean;
  auto_delete: boolean;
  arguments: DefinitionArguments;
  /** Present in some exports (e.g. "classic"); optional. */
  type?: string;
}

export interface ExchangeDefinition {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: DefinitionArguments;
}

export interface BindingDefinition {
  source: string;
  vhost: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments: DefinitionArguments;
}

export interface Definitions {
  rabbit_version?: string;
  rabbitmq_version?: string;
  product_name?: string;
  product_version?: string;
  users?: UserDefinition[];
  vhosts?: VhostDefinition[];
  permissions?: PermissionDefinition[];
  topic_permissions?: TopicPermissionDefinition[];
  parameters?: ParameterDefinition[];
  global_parameters?: GlobalParameterDefinition[];
  policies?: PolicyDefinition[];
  queues?: QueueDefinition[];
  exchanges?: ExchangeDefinition[];
  bindings?: BindingDefinition[];
}

/**
 * One change to a queue, exchange or binding as the definitions log stores it (definitions-store.ts):
 * `put` adds the item, `delete` removes the item with the same key (vhost and name; for a binding
 * every field). The item is in the definitions document's own format.
 */
export type DefinitionRecord =
  | { op: 'put' | 'delete'; kind: 'queues'; item: QueueDefinition }
  | { op: 'put' | 'delete'; kind: 'exchanges'; item: ExchangeDefinition }
  | { op: 'put' | 'delete'; kind: 'bindings'; item: BindingDefinition };
