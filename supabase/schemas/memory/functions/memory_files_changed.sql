create function coord.memory_files_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_files text[];
  v_marked int;
begin
  -- Every path the change touched, renamed-from paths included.
  v_files := array(select distinct x from jsonb_array_elements(new.files) f,
                          lateral (values (f->>'path'), (f->>'previous_path')) v(x)
                    where x is not null);
  if cardinality(v_files) = 0 then
    return null;
  end if;
  -- Memories of this repository (or of none) that name a touched file become possibly stale. Not: memories about this
  -- very commit, and memories the submitting session wrote itself (they describe the change being submitted).
  with touched as (
    select m.id, array(select p from unnest(m.file_paths) p where p = any(v_files) order by p limit 20) as files
      from coord.memories m
     where m.file_paths && v_files
       and m.repo in (new.repo, '')
       and m.commit_sha is distinct from new.commit_sha
       and not (new.session_id is not null and m.agent_id = new.agent_id and m.session_id = new.session_id)
  )
  insert into coord.memory_stale_marks as s (memory_id, commit_sha, changeset_id, files)
  select id, new.commit_sha, new.id, files from touched
  on conflict (memory_id) do update
    set files = (select array_agg(x) from (select distinct x from unnest(s.files || excluded.files) x order by x limit 20) u),
        changes = s.changes + 1;
  get diagnostics v_marked = row_count;
  if v_marked > 0 then
    perform coord.emit('memory.marked_stale', new.agent_id, new.session_id, new.id::text,
                       jsonb_build_object('memories', v_marked, 'commit_sha', new.commit_sha, 'repo', new.repo));
  end if;
  return null;
end;
$$;
comment on function coord.memory_files_changed() is
  'Trigger on coord.changesets (pushes, pull requests, agent changesets): memories naming a touched file in file_paths '
  'are marked possibly stale (coord.memory_stale_marks: first commit, files), except memories about that commit and '
  'those the submitting session wrote.';

create trigger memory_files_changed after insert on coord.changesets
  for each row execute function coord.memory_files_changed();
