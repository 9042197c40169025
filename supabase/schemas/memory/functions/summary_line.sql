create function coord.summary_line(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  -- The first line (or sentence, for one-line text), at most 160 characters, plus up to five references (paths,
  -- URLs, issue numbers, commit shas) from the rest, so a cut item still points at what it was about.
  with first as (
    select left(btrim(split_part(btrim(p_text), E'\n', 1)), 160) as line
  ), refs as (
    select string_agg(r, ', ') as list from (
      select distinct on (m[1]) m[1] as r
        from regexp_matches(p_text, '(https?://[^\s)]+|[A-Za-z0-9_.-]*/[A-Za-z0-9_./-]+|[A-Za-z0-9_-]+\.(?:ts|js|py|sql|go|rs|json|md|yml|yaml|toml)\M|#[0-9]+|\m[0-9a-f]{7,40}\M)', 'g') as m
       limit 5
    ) s
  )
  select case when f.line <> btrim(p_text) and r.list is not null then f.line || ' [refs: ' || left(r.list, 200) || ']'
              else f.line end
    from first f, refs r
$$;
comment on function coord.summary_line(text) is 'Compresses a long text to its first line and key references (working-memory cuts, evicted summaries).';
