/**
 * Keyset paging for every list: a page answers `next_cursor` (null on the last page), and the caller passes it back
 * as `cursor` to get the rows after it. The cursor is opaque to callers: the sort key of the page's last row, as
 * JSON in base64url. SQL checks what it decodes to, so a forged cursor is a 400, never a wrong page or a 500.
 */
import { z } from "zod";
import { ApiError } from "../http/errors.ts";
import { decodeBase64, encodeBase64Url } from "../util/bytes.ts";

/** The `cursor` input of a list. */
export const Cursor = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[A-Za-z0-9_-]+$/, "the next_cursor of a previous page, as it was")
  .describe("next_cursor of the previous page");

/** The `next_cursor` of a list's answer. */
export const NextCursor = z.string().nullable().describe("Pass as cursor for the next page; null on the last page");

export function invalidCursor(): ApiError {
  return new ApiError(400, "invalid_cursor", "Invalid cursor — send the next_cursor of a previous page unchanged.", {
    fields: [{ field: "cursor", message: "not a cursor this list gave out" }],
  });
}

/** A sort key as an opaque cursor (null stays null: the last page). */
export function encodeCursor(key: unknown): string | null {
  if (key === null || key === undefined) return null;
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify(key)));
}

/** The sort key in a cursor, checked against what the list's keys look like; 400 invalid_cursor otherwise. */
export function decodeCursor<T>(cursor: string | undefined, shape: z.ZodType<T>): T | null {
  if (cursor === undefined) return null;
  let key: unknown;
  try {
    const b64 = cursor.replaceAll("-", "+").replaceAll("_", "/");
    key = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(decodeBase64(b64.padEnd(Math.ceil(b64.length / 4) * 4, "="))),
    );
  } catch {
    throw invalidCursor();
  }
  const parsed = shape.safeParse(key);
  if (!parsed.success) throw invalidCursor();
  return parsed.data;
}
