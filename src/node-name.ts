/**
 * The node name Warren reports everywhere (management API, metrics, firehose headers). One process
 * is one node, so the name is process-wide: `warren --node-name warren-1` sets it at start-up,
 * before any broker exists; embedded brokers keep the default.
 */
import { hostname } from 'node:os';

export let NODE_NAME = `warren@${hostname()}`;

export function setNodeName(name: string): void {
  NODE_NAME = name;
}
