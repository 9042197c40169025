/** Key material helpers shared by the auth middleware and the keys script. Web Crypto only: runs on Deno too. */

const encoder = new TextEncoder();

export async function sha256Bytes(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Compares two equal-length digests in time independent of where they differ. Comparing digests rather than
 * keys also makes the time independent of the keys' lengths.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** A new random API key: `ac_` and 32 random bytes, base64url. */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
  return `ac_${b64}`;
}

/** The part of a key shown in listings and accepted by `keys revoke`: enough to tell keys apart, useless to log in. */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}
