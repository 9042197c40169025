create function coord.lock_keys_conflict(p_a text, p_b text)
returns boolean
language sql
immutable
strict
parallel safe
set search_path = ''
as $$
  select p_a = p_b
      or (right(p_a, 1) = '/' and starts_with(p_b, p_a))
      or (right(p_b, 1) = '/' and starts_with(p_a, p_b))
$$;
comment on function coord.lock_keys_conflict(text, text) is
  'The overlap rule: equal keys conflict, and a scope (key ending in /) conflicts with every key inside it.';
