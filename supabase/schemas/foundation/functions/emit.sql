create function coord.emit(p_kind text, p_agent_id text, p_session_id text, p_subject text, p_data jsonb default '{}'::jsonb)
returns void
language plpgsql
set search_path = ''
as $$
declare
  -- Set (transaction-local) by the app when an admin key acts: the event says who really did it.
  v_actor text := nullif(current_setting('coord.actor', true), '');
begin
  -- The transaction's id first, then the event's: the event feed (coord.follow_events) relies on every event id
  -- being handed out to a transaction that already had its xid. An insert alone draws the id (nextval) before it
  -- assigns the xid, so a transaction whose first write is this event would otherwise break that order.
  perform pg_catalog.pg_current_xact_id();
  insert into coord.events (kind, agent_id, session_id, subject, data)
  values (p_kind, p_agent_id, p_session_id, p_subject,
          coalesce(p_data, '{}'::jsonb) || case when v_actor is null then '{}'::jsonb
                                                else jsonb_build_object('acted_by', v_actor) end);
  -- No NOTIFY here: inside a writing transaction it would hold Postgres's global notify lock through the commit's
  -- fsync, so no two state changes could share one. The app announces after commit (functions-src/events/announce.ts).
end;
$$;
comment on function coord.emit(text, text, text, text, jsonb) is
  'Records one event (announcing it is the app''s part, after commit: see functions-src/events/announce.ts). Called '
  'inside the transaction of the change it describes, so the event exists exactly when the change does. When an admin key acts '
  '(setting coord.actor), data.acted_by names it. The only writer of coord.events: it assigns the transaction id '
  'before the event id, which the event feed''s ordering proof needs.';
