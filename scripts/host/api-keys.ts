/** API key material: generation and the prefix shown in listings. Hashing and comparison live in util/bytes.ts. */
import { encodeBase64Url } from "../../functions-src/util/bytes.ts";

/** A new random API key: `ac_` and 32 random bytes, base64url. */
export function generateApiKey(): string {
  return `ac_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The part of a key shown in listings and accepted by `keys revoke`: enough to tell keys apart, useless to log in. */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}
