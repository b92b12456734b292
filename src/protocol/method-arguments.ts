/** Decode a method's arguments by its id; an id the spec does not define is a 503 COMMAND_INVALID. */
import { commandInvalid } from './errors.js';
import type { FrameReader } from './frame-reader.js';
import { METHODS } from './generated.js';

export function decodeMethodArguments(id: number, r: FrameReader): unknown {
  const info = METHODS.get(id);
  if (!info) throw commandInvalid(`unknown method ${id >>> 16}/${id & 0xffff}`);
  return info.decode(r);
}
