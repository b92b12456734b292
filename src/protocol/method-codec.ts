/**
 * What the generated method codecs need from a reader and a writer. FrameReader and FrameWriter
 * satisfy these structurally; declaring them here keeps generated.ts from importing the frame
 * classes, which themselves import generated.ts (method table, frame constants).
 */
import type { FieldTable } from './field-table.js';

export interface MethodReader {
  u8(): number;
  u16(): number;
  u32(): number;
  u64(): number;
  shortstr(): string;
  longstr(): Buffer;
  table(): FieldTable;
}

export interface MethodWriter {
  u8(v: number): void;
  u16(v: number): void;
  u32(v: number): void;
  u64(v: number): void;
  shortstr(s: string): void;
  longstr(b: Buffer | string): void;
  table(t: FieldTable | undefined): void;
}
