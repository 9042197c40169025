create function coord.lock_ancestors(p_key text)
returns text[]
language plpgsql
immutable
strict
parallel safe
set search_path = ''
as $$
declare
  parts text[] := string_to_array(p_key, '/');
  acc text := '';
  result text[] := '{}';
begin
  -- A loop, not a query: a SQL-language function with a FROM clause is planned anew on every call on Postgres 15,
  -- and this one runs for every key of every acquire.
  for i in 1 .. cardinality(parts) - 1 loop
    acc := acc || parts[i] || '/';
    if acc <> p_key then
      result := result || acc;
    end if;
  end loop;
  return result;
end;
$$;
comment on function coord.lock_ancestors(text) is
  'The scopes (directory keys) strictly above a key, outermost first: src/auth/a.ts -> {src/, src/auth/}.';
