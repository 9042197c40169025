create function coord.run_work_calls(p_calls jsonb)
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
  -- In order, in this one transaction: a later claim does not see tasks an earlier one took (they are claimed by then),
  -- a completion sees its own claim. Any error aborts them all; the app then runs each alone.
  for c in select value from jsonb_array_elements(p_calls) loop
    a := c -> 'args';
    v_out := v_out || jsonb_build_array(case c ->> 'fn'
      when 'coord.claim_tasks' then
        coord.claim_tasks(a ->> 0, a ->> 1, a ->> 2,
                          case when jsonb_typeof(a -> 3) = 'array'
                               then array(select jsonb_array_elements_text(a -> 3)) end,
                          case when jsonb_typeof(a -> 4) = 'array'
                               then array(select jsonb_array_elements_text(a -> 4)) end,
                          (a ->> 5)::int, (a ->> 6)::int, (a ->> 7)::boolean, a ->> 8)
      when 'coord.complete_tasks' then
        coord.complete_tasks(a ->> 0, a ->> 1, a -> 2)
    end);
    if v_out ->> -1 is null then
      raise exception 'coord.run_work_calls: cannot run %', c ->> 'fn';
    end if;
  end loop;
  return v_out;
end;
$$;
comment on function coord.run_work_calls(jsonb) is
  'Group commit for the queue hot path: runs [{fn, args}] calls of coord.claim_tasks and coord.complete_tasks in '
  'order in one transaction (one round trip, one commit) and answers their answers in order. The app sends the '
  'calls that arrived while its previous call was running (functions-src/db/group.ts).';
