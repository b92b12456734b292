// One measured number, as every scenario reports it; the table is built from medians of these.
import type { BrokerKind } from './broker-process.js';
import type { Tool } from './metrics.js';

export interface Sample {
  scenario: string;
  tool: Tool;
  metric: string;
  /** null for broker-less measurements (raw-limit, tool ceiling) */
  broker: BrokerKind | null;
  value: number | null;
  round: number;
  error?: string;
  /** the tool's whole result, kept in latest.json */
  raw?: unknown;
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
