/** Decode a method frame's arguments by its id; an id the spec does not define is a 503 COMMAND_INVALID. */
import { commandInvalid } from './errors.js';
import { decodeMethod, type DecodedMethod } from './generated.js';
import type { MethodReader } from './method-codec.js';

export function decodeMethodArguments(id: number, r: MethodReader): DecodedMethod {
  const m = decodeMethod(id, r);
  if (!m) throw commandInvalid(`unknown method ${id >>> 16}/${id & 0xffff}`);
  return m;
}
