create function coord.run_lock_calls(p_calls jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
-- A hot path of small plans: JIT compiling one (past jit_above_cost on a large table) costs more than it saves.
set jit = off
as $$
declare
  c jsonb;
  a jsonb;
  v_out jsonb := '[]'::jsonb;
begin
  -- In order, in this one transaction: a later call sees an earlier one's writes, as if they had run one after the
  -- other. Any error aborts them all; the app then runs each alone, so one call's error stays its own.
  for c in select value from jsonb_array_elements(p_calls) loop
    a := c -> 'args';
    v_out := v_out || jsonb_build_array(case c ->> 'fn'
      when 'coord.acquire_locks' then
        coord.acquire_locks(a ->> 0, a ->> 1, a ->> 2, array(select jsonb_array_elements_text(a -> 3)), a ->> 4,
                            (a ->> 5)::int, (a ->> 6)::int)
      when 'coord.release_locks' then
        coord.release_locks(a ->> 0, a ->> 1, array(select jsonb_array_elements_text(a -> 2)), (a ->> 3)::boolean)
    end);
    if v_out ->> -1 is null then
      raise exception 'coord.run_lock_calls: cannot run %', c ->> 'fn';
    end if;
  end loop;
  return v_out;
end;
$$;
comment on function coord.run_lock_calls(jsonb) is
  'Group commit for the lock hot path: runs [{fn, args}] calls of coord.acquire_locks and coord.release_locks in '
  'order in one transaction (one round trip, one commit) and answers their answers in order. The app sends the '
  'calls that arrived while its previous call was running (functions-src/db/group.ts).';
