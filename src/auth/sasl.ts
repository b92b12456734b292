/** Credentials out of connection.start-ok's response, for the PLAIN and AMQPLAIN mechanisms. */
import { FrameReader } from '../protocol/frame-reader.js';

export const MECHANISMS = ['PLAIN', 'AMQPLAIN'] as const;

export interface Credentials {
  username: string;
  password: string;
}

export function parseCredentials(mechanism: string, response: Buffer): Credentials | undefined {
  if (mechanism === 'PLAIN') {
    // authzid NUL authcid NUL password
    const first = response.indexOf(0);
    const second = first < 0 ? -1 : response.indexOf(0, first + 1);
    if (second < 0) return undefined;
    return {
      username: response.toString('utf8', first + 1, second),
      password: response.toString('utf8', second + 1),
    };
  }
  if (mechanism === 'AMQPLAIN') {
    // A field table without its length prefix.
    const framed = Buffer.allocUnsafe(4 + response.length);
    framed.writeUInt32BE(response.length, 0);
    response.copy(framed, 4);
    try {
      const t = new FrameReader(framed).table();
      const login = t['LOGIN'];
      const password = t['PASSWORD'];
      if (login === undefined || password === undefined) return undefined;
      return { username: String(login), password: String(password) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
