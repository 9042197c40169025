create function coord.verification_final_tier(p_base int, p_floor int, p_adjustment int)
returns int
language sql
immutable
set search_path = ''
as $$ select least(4, greatest(p_base + p_adjustment, p_base - 1, p_floor, 0)) $$;
comment on function coord.verification_final_tier(int, int, int) is
  'Internal: the tier after trust: up freely, down by at most one, never under the floor of the matched policies.';
