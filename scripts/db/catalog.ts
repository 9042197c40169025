/**
 * What migra does not compare, read from the catalogs of schema `coord`: comments (pg_description) and every
 * privilege (schemas, tables, sequences, columns, functions, default privileges). Optionally also the definitions of
 * the schema's objects, which lets two databases be compared where migra cannot connect (PGlite).
 * Works through the db port, so on Postgres and PGlite alike.
 */
import type { Queryable } from "../../functions-src/db/port.ts";

/** One comment on an object of schema coord (or on the schema itself). */
export interface CommentRow {
  /** What `comment on` needs: `table`, `column`, `function`, `sequence`, `schema`, `index`, `trigger`, … */
  kind: string;
  /** The object's name as `comment on KIND …` takes it: `coord.agents`, `coord.f(text,integer)`, `t on coord.x`. */
  identity: string;
  description: string;
}

/** One privilege held by one role on one object. */
export interface PrivilegeRow {
  /** `schema`, `table`, `sequence`, `function`, `column` or `default` (default privileges). */
  kind: string;
  /** The object as GRANT takes it; for `column` the table; for `default` the `for role … in schema …` clause. */
  object: string;
  /** The column, for `column`. */
  column: string | null;
  /** For `default`: the kind of object the default applies to (`tables`, `sequences`, `functions`, …). */
  on: string | null;
  /** The role, `public` for PUBLIC. */
  grantee: string;
  privilege: string;
  grantable: boolean;
}

// pg_identify_object names an object as COMMENT ON takes it, but for two kinds.
const KIND = `case i.type when 'table column' then 'column' when 'table constraint' then 'constraint' else i.type end`;

const COMMENTS_SQL = `
select ${KIND} as kind, i.identity, d.description
  from pg_catalog.pg_description d
 cross join lateral pg_catalog.pg_identify_object(d.classoid, d.objoid, d.objsubid) i
 where i.schema = 'coord' or (i.type = 'schema' and i.identity = 'coord')
 order by 1, 2`;

// Every object that can carry a comment: the schema, its relations, columns, functions, triggers, policies and
// constraints.
const OBJECTS_SQL = `
with coord as (select oid from pg_catalog.pg_namespace where nspname = 'coord'),
objects as (
  select 'pg_catalog.pg_namespace'::pg_catalog.regclass as classid, n.oid, 0 as subid
    from pg_catalog.pg_namespace n where n.oid = (select oid from coord)
  union all
  select 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0
    from pg_catalog.pg_class c where c.relnamespace = (select oid from coord)
  union all
  select 'pg_catalog.pg_class'::pg_catalog.regclass, a.attrelid, a.attnum
    from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
   where c.relnamespace = (select oid from coord) and a.attnum > 0 and not a.attisdropped
  union all
  select 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 0
    from pg_catalog.pg_proc p where p.pronamespace = (select oid from coord)
  union all
  select 'pg_catalog.pg_trigger'::pg_catalog.regclass, t.oid, 0
    from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
   where c.relnamespace = (select oid from coord) and not t.tgisinternal
  union all
  select 'pg_catalog.pg_policy'::pg_catalog.regclass, p.oid, 0
    from pg_catalog.pg_policy p join pg_catalog.pg_class c on c.oid = p.polrelid
   where c.relnamespace = (select oid from coord)
  union all
  select 'pg_catalog.pg_constraint'::pg_catalog.regclass, r.oid, 0
    from pg_catalog.pg_constraint r where r.connamespace = (select oid from coord)
)
select ${KIND} as kind, i.identity
  from objects o cross join lateral pg_catalog.pg_identify_object(o.classid, o.oid, o.subid) i`;

// The schema's own ACLs, every relation's and function's (the owner's implicit rights included, via acldefault),
// column ACLs, and default privileges of every role.
const PRIVILEGES_SQL = `
with coord as (select oid from pg_catalog.pg_namespace where nspname = 'coord'),
objects as (
  select 'schema' as kind, pg_catalog.quote_ident(n.nspname) as object, null::text as col, null::text as "on",
         coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner)) as acl
    from pg_catalog.pg_namespace n where n.nspname in ('coord', 'extensions')
  union all
  select case c.relkind when 'S' then 'sequence' else 'table' end, c.oid::pg_catalog.regclass::text, null, null,
         coalesce(c.relacl, pg_catalog.acldefault(case c.relkind when 'S' then 's' else 'r' end::"char", c.relowner))
    from pg_catalog.pg_class c
   where c.relnamespace = (select oid from coord) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
  union all
  select 'column', c.oid::pg_catalog.regclass::text, a.attname::text, null, a.attacl
    from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
   where c.relnamespace = (select oid from coord) and a.attnum > 0 and not a.attisdropped and a.attacl is not null
  union all
  select 'function', p.oid::pg_catalog.regprocedure::text, null, null,
         coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))
    from pg_catalog.pg_proc p where p.pronamespace = (select oid from coord)
  union all
  select 'default',
         pg_catalog.format('for role %I', pg_catalog.pg_get_userbyid(d.defaclrole))
           || coalesce(' in schema ' || pg_catalog.quote_ident(n.nspname), ''),
         null,
         case d.defaclobjtype when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions'
                              when 'T' then 'types' when 'n' then 'schemas' end,
         d.defaclacl
    from pg_catalog.pg_default_acl d left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
)
select o.kind, o.object, o.col as "column", o."on",
       case when x.grantee = 0 then 'public' else pg_catalog.pg_get_userbyid(x.grantee) end as grantee,
       x.privilege_type as privilege, x.is_grantable as grantable
  from objects o cross join lateral pg_catalog.aclexplode(o.acl) x
 order by 1, 2, 3, 4, 5, 6`;

// Definitions, for comparing databases without migra: each row a (key, definition) pair.
const DEFINITIONS_SQL = `
with coord as (select oid from pg_catalog.pg_namespace where nspname = 'coord')
select 'extension ' || e.extname as key, n.nspname::text as def
  from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
union all
select 'relation ' || c.oid::pg_catalog.regclass::text,
       c.relkind::text || ' rls=' || c.relrowsecurity::text || ' force=' || c.relforcerowsecurity::text
  from pg_catalog.pg_class c where c.relnamespace = (select oid from coord) and c.relkind in ('r', 'p', 'v', 'm', 'S')
union all
select 'column ' || c.oid::pg_catalog.regclass::text || '.' || a.attname,
       a.attnum::text || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull::text
       || ' identity=' || a.attidentity::text || ' collation=' || coalesce(co.collname::text, '')
       || ' default=' || coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
  from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
  left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
  left join pg_catalog.pg_collation co on co.oid = a.attcollation and a.attcollation <> 100
 where c.relnamespace = (select oid from coord) and c.relkind in ('r', 'p', 'v', 'm')
   and a.attnum > 0 and not a.attisdropped
union all
select 'constraint ' || r.conrelid::pg_catalog.regclass::text || ' ' || pg_catalog.pg_get_constraintdef(r.oid),
       r.contype::text
  from pg_catalog.pg_constraint r where r.connamespace = (select oid from coord)
union all
select 'index ' || i.indexrelid::pg_catalog.regclass::text, pg_catalog.pg_get_indexdef(i.indexrelid)
  from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid
 where c.relnamespace = (select oid from coord)
union all
select 'trigger ' || t.tgname || ' on ' || t.tgrelid::pg_catalog.regclass::text, pg_catalog.pg_get_triggerdef(t.oid)
  from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
 where c.relnamespace = (select oid from coord) and not t.tgisinternal
union all
select 'policy ' || p.polname || ' on ' || p.polrelid::pg_catalog.regclass::text,
       p.polcmd::text || ' ' || p.polpermissive::text || ' '
       || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') || ' '
       || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '') || ' '
       || (select coalesce(pg_catalog.string_agg(case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r) end,
                                                 ',' order by 1), '')
             from unnest(p.polroles) r)
  from pg_catalog.pg_policy p join pg_catalog.pg_class c on c.oid = p.polrelid
 where c.relnamespace = (select oid from coord)
union all
select 'function ' || p.oid::pg_catalog.regprocedure::text, pg_catalog.pg_get_functiondef(p.oid)
  from pg_catalog.pg_proc p where p.pronamespace = (select oid from coord)
order by 1`;

export async function readComments(db: Queryable): Promise<CommentRow[]> {
  return db.query<CommentRow>(COMMENTS_SQL);
}

/** `kind identity` of every object of schema coord that can carry a comment. */
export async function readObjects(db: Queryable): Promise<Set<string>> {
  const rows = await db.query<{ kind: string; identity: string }>(OBJECTS_SQL);
  return new Set(rows.map((r) => `${r.kind} ${r.identity}`));
}

export async function readPrivileges(db: Queryable): Promise<PrivilegeRow[]> {
  return db.query<PrivilegeRow>(PRIVILEGES_SQL);
}

export async function readDefinitions(db: Queryable): Promise<Map<string, string>> {
  const rows = await db.query<{ key: string; def: string }>(DEFINITIONS_SQL);
  return new Map(rows.map((r) => [r.key, r.def]));
}

export function sqlLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function role(grantee: string): string {
  return grantee === "public"
    ? "public"
    : /^[a-z_][a-z0-9_]*$/.test(grantee)
      ? grantee
      : `"${grantee.replace(/"/g, '""')}"`;
}

function ident(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** The GRANT (or REVOKE) statement that adds (removes) one privilege. */
export function privilegeStatement(p: PrivilegeRow, grant: boolean): string {
  const verb = grant ? "grant" : p.grantable ? "revoke grant option for" : "revoke";
  const tail = grant ? `to ${role(p.grantee)}${p.grantable ? " with grant option" : ""}` : `from ${role(p.grantee)}`;
  const priv = p.privilege.toLowerCase();
  switch (p.kind) {
    case "default":
      return `alter default privileges ${p.object} ${verb} ${priv} on ${p.on} ${tail};`;
    case "column":
      return `${verb} ${priv} (${ident(p.column!)}) on table ${p.object} ${tail};`;
    default:
      return `${verb} ${priv} on ${p.kind} ${p.object} ${tail};`;
  }
}

/** The statement that sets (or clears, for `null`) one comment. */
export function commentStatement(kind: string, identity: string, description: string | null): string {
  return `comment on ${kind} ${identity} is ${description === null ? "null" : sqlLiteral(description)};`;
}

export interface CatalogDifference {
  /** Statements that make the `from` database's catalogs match the `to` database's. */
  statements: string[];
  /** One line per difference, for people. */
  lines: string[];
}

/**
 * Comments that differ between two databases, as `comment on` statements for `from`: objects only `to` has get
 * theirs; a comment on an object only `from` has is left alone (the migration drops the object); `toObjects`
 * (`kind identity`, from readObjects) tells which objects `to` has.
 */
export function diffComments(from: CommentRow[], to: CommentRow[], toObjects: Set<string>): CatalogDifference {
  const key = (c: CommentRow) => `${c.kind} ${c.identity}`;
  const was = new Map(from.map((c) => [key(c), c]));
  const now = new Map(to.map((c) => [key(c), c]));
  const out: CatalogDifference = { statements: [], lines: [] };
  for (const [k, c] of now) {
    const before = was.get(k);
    if (before?.description === c.description) continue;
    out.statements.push(commentStatement(c.kind, c.identity, c.description));
    out.lines.push(
      before
        ? `comment on ${k} differs:\n    migrations: ${before.description}\n    schemas:    ${c.description}`
        : `comment on ${k} is missing from the migrations: ${c.description}`,
    );
  }
  for (const [k, c] of was) {
    if (now.has(k) || !toObjects.has(k)) continue;
    out.statements.push(commentStatement(c.kind, c.identity, null));
    out.lines.push(`comment on ${k} is only in the migrations: ${c.description}`);
  }
  return out;
}

/**
 * Privileges that differ on objects both databases have (an object only one side has is migra's to create or
 * drop; the grants file appended to every migration gives a new object its privileges).
 */
export function diffPrivileges(from: PrivilegeRow[], to: PrivilegeRow[]): CatalogDifference {
  const objectKey = (p: PrivilegeRow) => `${p.kind} ${p.object} ${p.column ?? ""} ${p.on ?? ""}`;
  const key = (p: PrivilegeRow) => `${objectKey(p)} ${p.grantee} ${p.privilege} ${p.grantable}`;
  const common = new Set(from.map(objectKey).filter((k) => to.some((p) => objectKey(p) === k)));
  // Column and default ACL rows exist only where something was granted: compare them whenever their table exists.
  const tables = new Set([...from, ...to].filter((p) => p.kind === "table").map((p) => p.object));
  const comparable = (p: PrivilegeRow) =>
    p.kind === "default" || (p.kind === "column" ? tables.has(p.object) : common.has(objectKey(p)));
  const was = new Set(from.filter(comparable).map(key));
  const now = new Set(to.filter(comparable).map(key));
  const out: CatalogDifference = { statements: [], lines: [] };
  const label = (p: PrivilegeRow) =>
    `${p.privilege}${p.grantable ? " (grantable)" : ""} on ${p.kind} ${p.object}${p.column ? `.${p.column}` : ""}` +
    `${p.on ? ` on ${p.on}` : ""} for ${p.grantee}`;
  for (const p of from.filter(comparable)) {
    if (now.has(key(p))) continue;
    out.statements.push(privilegeStatement(p, false));
    out.lines.push(`privilege only in the migrations: ${label(p)}`);
  }
  for (const p of to.filter(comparable)) {
    if (was.has(key(p))) continue;
    out.statements.push(privilegeStatement(p, true));
    out.lines.push(`privilege only in the schema files: ${label(p)}`);
  }
  return out;
}

/** Definitions that differ: one line per object added, removed or changed. */
export function diffDefinitions(from: Map<string, string>, to: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [k, v] of to) {
    if (!from.has(k)) lines.push(`${k}: only in the schema files`);
    else if (from.get(k) !== v) lines.push(`${k}: differs\n    migrations: ${from.get(k)}\n    schemas:    ${v}`);
  }
  for (const k of from.keys()) if (!to.has(k)) lines.push(`${k}: only in the migrations`);
  return lines;
}

/** A function's SET clauses (`proconfig`, e.g. `search_path=""`, `jit=off`), by its signature. */
export interface SettingsRow {
  identity: string;
  config: string[] | null;
}

const SETTINGS_SQL = `
select p.oid::pg_catalog.regprocedure::text as identity, p.proconfig as config
  from pg_catalog.pg_proc p
 where p.pronamespace = (select oid from pg_catalog.pg_namespace where nspname = 'coord')
 order by 1`;

export async function readSettings(db: Queryable): Promise<SettingsRow[]> {
  return db.query<SettingsRow>(SETTINGS_SQL);
}

/**
 * Functions whose SET clauses differ (migra compares bodies, not SET clauses), as `alter function … reset all` plus
 * one `set` per setting of the `to` database. Functions only one side has are migra's to create or drop.
 */
export function diffSettings(from: SettingsRow[], to: SettingsRow[]): CatalogDifference {
  const was = new Map(from.map((r) => [r.identity, r.config ?? []]));
  const out: CatalogDifference = { statements: [], lines: [] };
  for (const r of to) {
    const before = was.get(r.identity);
    const now = r.config ?? [];
    if (before === undefined || before.join("\n") === now.join("\n")) continue;
    out.statements.push(`alter function ${r.identity} reset all;`);
    for (const setting of now) {
      const eq = setting.indexOf("=");
      const value = setting.slice(eq + 1);
      // proconfig holds search_path="" for an empty path; other values are plain words.
      out.statements.push(
        `alter function ${r.identity} set ${setting.slice(0, eq)} = ${value === '""' ? "''" : sqlLiteral(value)};`,
      );
    }
    out.lines.push(
      `settings of function ${r.identity} differ: migrations [${before.join(", ")}], schemas [${now.join(", ")}]`,
    );
  }
  return out;
}
