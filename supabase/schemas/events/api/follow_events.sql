create function coord.follow_events(p_after bigint, p_limit int, p_ticket jsonb, p_serial boolean)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
-- Why a ticket: event ids are drawn when a transaction inserts, not when it commits, so id 7 may become visible
-- after id 8. A reader that remembers "the last id I saw" would skip 7. This function hands out ids only up to a
-- bound below which nothing can appear any more ("safe"):
--   1. It reads the highest id drawn so far (head), then takes a ticket: an xid of its own (pg_current_xact_id()),
--      drawn after head was read. Every event id <= head was drawn by a transaction that already had an xid
--      (coord.emit assigns it first), and xids are handed out in order, so each of those transactions has an xid
--      below the ticket.
--   2. On the next call, the ticket's transaction has ended (the caller waits for each call), so the snapshot's
--      xmax is above the ticket and every transaction below it that still runs is listed in the snapshot's xip.
--      When none is, every id <= head is final: committed and visible, or never to be. head becomes safe.
-- A ticket costs an xid and a commit record without a WAL flush (the transaction writes nothing), and is taken only
-- when ids above safe exist. On PGlite (p_serial) no other transaction runs beside this one: head is safe at once.
declare
  v_head bigint;
  v_safe bigint := p_after;
  v_ticket jsonb := p_ticket;
  v_snapshot pg_catalog.pg_snapshot;
  v_events jsonb;
begin
  if pg_catalog.current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'coord.follow_events needs read committed: each statement must see what has committed since';
  end if;
  if v_ticket is not null then
    v_snapshot := pg_catalog.pg_current_snapshot();
    if not exists (select 1 from pg_catalog.pg_snapshot_xip(v_snapshot) x where x < (v_ticket ->> 'xid')::xid8) then
      v_safe := greatest(v_safe, (v_ticket ->> 'head')::bigint);
      v_ticket := null;
    end if;
  end if;
  -- The sequence is read outside any snapshot: last_value is the latest id drawn by any transaction (cache 1).
  select case when s.is_called then s.last_value else s.last_value - 1 end into v_head from coord.events_id_seq s;
  if p_serial then
    v_safe := greatest(v_safe, v_head);
    v_ticket := null;
  elsif v_ticket is null and v_head > coalesce(v_safe, -1) then
    v_ticket := jsonb_build_object('head', v_head, 'xid', pg_catalog.pg_current_xact_id()::text);
  end if;
  if p_after is not null and v_safe > p_after then
    select jsonb_agg(coord.event_json(e) order by e.id)
      into v_events
      from (select * from coord.events where id > p_after and id <= v_safe
             order by id limit least(greatest(p_limit, 1), 5000)) e;
  end if;
  return jsonb_build_object('events', coalesce(v_events, '[]'::jsonb), 'safe', v_safe, 'ticket', v_ticket, 'head', v_head);
end;
$$;
comment on function coord.follow_events(bigint, int, jsonb, boolean) is
  'The event feed: events after p_after, in id order, up to a bound below which no event can still appear (ids are '
  'drawn at insert, not at commit). Pass back the ticket of the previous answer; safe is the new cursor unless the '
  'limit cut the page. p_after null only establishes the first safe cursor. p_serial: one connection (PGlite).';
