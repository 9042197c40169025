const encoder = new TextEncoder();

/**
 * Verifies GitHub's `X-Hub-Signature-256` (HMAC-SHA256 of the raw body) against every configured secret, so a secret
 * can be rotated: add the new one, change it on GitHub, drop the old one. WebCrypto's verify compares in constant time.
 */
export async function verifyGitHubSignature(
  secrets: string[],
  rawBody: string | Uint8Array,
  signature: string | undefined,
): Promise<boolean> {
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature ?? "")?.[1];
  const body = typeof rawBody === "string" ? encoder.encode(rawBody) : rawBody;
  if (!hex || secrets.length === 0 || body.byteLength === 0) return false;
  const expected = Uint8Array.from(hex.match(/../g)!, (h) => Number.parseInt(h, 16));
  for (const secret of secrets) {
    const key = await crypto.subtle.importKey(
      "raw",
      encoder.encode(secret) as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    if (await crypto.subtle.verify("HMAC", key, expected as BufferSource, body as BufferSource)) return true;
  }
  return false;
}

/** Whether a request carries something shaped like a GitHub signature (no point reading a body that has none). */
export function hasGitHubSignature(signature: string | undefined): boolean {
  return /^sha256=[0-9a-f]{64}$/i.test(signature ?? "");
}

function base64ToBytes(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/**
 * The key that signs callbacks for one result: HMAC-SHA256(master, "verification-callback:" + resultId). A sandbox
 * is handed only its own result's key, so a compromised sandbox cannot report for any other change. Local runners
 * that hold the master secret derive the same key.
 */
export async function callbackKey(masterSecret: string, resultId: string): Promise<Uint8Array> {
  const master = base64ToBytes(masterSecret.replace(/^whsec_/, ""));
  const key = await crypto.subtle.importKey("raw", master as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`verification-callback:${resultId}`)),
  );
}

/** The derived key as a Standard Webhooks secret string (`whsec_<base64>`), the form signing libraries take. */
export async function callbackSecretFor(masterSecret: string, resultId: string): Promise<string> {
  return `whsec_${btoa(String.fromCharCode(...(await callbackKey(masterSecret, resultId))))}`;
}

export type CallbackCheck = { ok: true; body: unknown } | { ok: false; reason: string };

/**
 * Verifies a Standard Webhooks callback (webhook-id, webhook-timestamp, webhook-signature `v1,<base64 HMAC>`) on the
 * raw body with the result's derived key; refuses timestamps outside the library's 5-minute window (replays).
 */
export async function verifyCallback(
  masterSecret: string,
  resultId: string,
  rawBody: string,
  headers: Record<string, string>,
): Promise<CallbackCheck> {
  // Imported here, not at the top: only a callback needs it, and an edge start should not load it (nor the CommonJS
  // loader it brings).
  const { Webhook, WebhookVerificationError } = await import("standardwebhooks");
  const wh = new Webhook(await callbackKey(masterSecret, resultId), { format: "raw" });
  try {
    return { ok: true, body: wh.verify(rawBody, headers) };
  } catch (err) {
    if (err instanceof WebhookVerificationError) return { ok: false, reason: err.message };
    // Valid signature but not JSON.
    return { ok: false, reason: "body is not JSON" };
  }
}
