create function coord.memories_document() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.search :=
    setweight(to_tsvector('english'::regconfig, new.summary || ' ' || coalesce(new.name, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, array_to_string(new.tags, ' ')), 'B') ||
    setweight(to_tsvector('english'::regconfig,
      concat_ws(' ', new.details, new.lessons, new.preconditions, array_to_string(new.steps, ' '),
                array_to_string(new.file_paths, ' '))), 'C');
  insert into coord.memory_words (word)
  select distinct w
    from regexp_split_to_table(lower(concat_ws(' ', new.summary, new.name, array_to_string(new.tags, ' '))), '[^a-z0-9_]+') as w
   where length(w) between 4 and 40 and w !~ '^[0-9_]+$'
  on conflict do nothing;
  return new;
end;
$$;
comment on function coord.memories_document() is
  'Trigger: the weighted search document (summary and skill name A, tags B, details/lessons/steps/paths C), and '
  'new words of the summary, name and tags into coord.memory_words.';

create trigger memories_document before insert or update of summary, name, tags, details, lessons, preconditions, steps, file_paths
  on coord.memories for each row execute function coord.memories_document();
