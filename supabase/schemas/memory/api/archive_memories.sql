create function coord.archive_memories(p_age_days int default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_days int := coalesce(p_age_days, coord.memory_setting('retention_days', 90)::int);
  v_moved int;
begin
  -- Episodic rows nobody has seen again or used within the window move to the archive; skills never expire.
  with moved as (
    delete from coord.memories m
     where m.layer = 'episodic'
       and m.last_seen_at < now() - make_interval(days => v_days)
       and (m.last_used_at is null or m.last_used_at < now() - make_interval(days => v_days))
    returning m.*
  )
  -- By column name, not position: columns added by later migrations sit in a different order in the two tables.
  insert into coord.memories_archive
  select (jsonb_populate_record(null::coord.memories_archive, to_jsonb(moved) || jsonb_build_object('archived_at', now()))).*
    from moved;
  get diagnostics v_moved = row_count;
  if v_moved > 0 then
    perform coord.emit('memory.archived', null, null, null, jsonb_build_object('rows', v_moved, 'age_days', v_days));
  end if;
  -- Fresh statistics keep recall's term weights current (PGlite has no autovacuum).
  analyze coord.memories;
  analyze coord.memory_words;
  return jsonb_build_object('archived', v_moved, 'age_days', v_days);
end;
$$;
comment on function coord.archive_memories(int) is
  'Moves episodic memories unseen and unused for p_age_days (default setting retention_days, 90) to '
  'coord.memories_archive and refreshes statistics. Run on a schedule (pg_cron, or POST /memory/retention).';
