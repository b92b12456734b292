/**
 * RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ sha256(salt ‖ password)) with a 4-byte
 * random salt, so password hashes move between RabbitMQ and Warren in definitions files.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const HASHING_ALGORITHM = 'rabbit_password_hashing_sha256';

export function hashPassword(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

export function checkPassword(password: string, passwordHash: string, algorithm = HASHING_ALGORITHM): boolean {
  if (!passwordHash) return false;
  const stored = Buffer.from(passwordHash, 'base64');
  const hashName = algorithm === 'rabbit_password_hashing_sha512' ? 'sha512' : algorithm === 'rabbit_password_hashing_md5' ? 'md5' : 'sha256';
  const saltLen = 4;
  if (stored.length <= saltLen) return false;
  const salt = stored.subarray(0, saltLen);
  const digest = createHash(hashName).update(salt).update(password, 'utf8').digest();
  const expected = stored.subarray(saltLen);
  return digest.length === expected.length && timingSafeEqual(digest, expected);
}
