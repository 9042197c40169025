create function coord.events_append_only()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'coord.events is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end;
$$;
comment on function coord.events_append_only() is 'Trigger: refuses UPDATE and DELETE on coord.events.';

create trigger events_append_only before update or delete on coord.events
  for each row execute function coord.events_append_only();
