/**
 * `npm run db:check`: the drift check. Builds the database once from supabase/migrations and once from
 * supabase/schemas (scratch databases on the Postgres of DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres) and fails with the difference when they are not the same in objects,
 * privileges and comments.
 */
import { checkDrift, DEFAULT_DATABASE_URL } from "./drift.ts";

try {
  const drift = await checkDrift(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  if (drift.clean) {
    process.stdout.write("no drift: supabase/migrations and supabase/schemas build the same database\n");
  } else {
    process.stderr.write(
      `drift: supabase/migrations and supabase/schemas build different databases.\n\n${drift.report}\n\n` +
        "Edit supabase/schemas to describe what you want, then `npm run db:diff -- NAME` writes the migration.\n",
    );
    process.exitCode = 1;
  }
} catch (err) {
  process.stderr.write(`db:check: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
